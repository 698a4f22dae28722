package verify

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
)

// TestPrepareImageOtherArch: an image built for another architecture is
// refused with an *ImageArchError naming both (commands add how to build
// one for this machine), its reference said once, on any machine, before
// the sandbox is asked whether it can run images at all.
func TestPrepareImageOtherArch(t *testing.T) {
	other := settings.ARM64
	if settings.HostArch() == settings.ARM64 {
		other = settings.X86_64
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		OS: "linux", Architecture: other.GOARCH(),
		Config: v1.Config{Entrypoint: []string{"/var/runtime/bootstrap"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ref := "oci:" + filepath.Join(t.TempDir(), "image")
	r, err := image.ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := image.Write(context.Background(), img, r, image.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = Prepare(context.Background(), ref, PrepareOptions{})
	var ae *ImageArchError
	if !errors.As(err, &ae) || ae.Image != ref || ae.Arch != other.GOARCH() || ae.Host != settings.HostArch() {
		t.Fatalf("Prepare(%s) = %v, want an *ImageArchError for %s on %s", ref, err, other, settings.HostArch())
	}
	want := "image " + ref + " is for " + other.GOARCH() + " and this machine is " + string(settings.HostArch()) + ": verify runs images of this machine's architecture"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
}
