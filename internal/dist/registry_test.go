package dist

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/registrytest"
)

// The image round-trips through a real registry server (Debian's
// docker-registry on loopback): pushed by Produce, pulled back by
// go-containerregistry with the same digest, and usable as a base.
func TestProducePushesToRegistry(t *testing.T) {
	host := registrytest.Start(t)
	dir := project(t, nil)
	push := func(dest string, base *image.Ref) *ImageResult {
		t.Helper()
		ref, err := image.ParseRef(dest)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Produce(context.Background(), dir, Options{Image: ImageOptions{Dest: ref, Base: base, Insecure: true}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Image == nil || res.Image.Dest.String() != dest {
			t.Fatalf("image %+v, want one pushed to %s", res.Image, dest)
		}
		return res.Image
	}
	r := push(host+"/hello:v1", nil)
	ref, err := name.ParseReference(host+"/hello:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("pulling back: %v", err)
	}
	if desc.Digest.String() != r.Digest {
		t.Errorf("the registry has %s, Produce reported %s", desc.Digest, r.Digest)
	}
	// Lambda rejects indexes: the pushed tag is a single manifest.
	if desc.MediaType != types.OCIManifestSchema1 && desc.MediaType != types.DockerManifestSchema2 {
		t.Errorf("pushed media type %s, want an image manifest", desc.MediaType)
	}

	// The pushed image as a base, pulled from the registry.
	base, err := image.ParseRef(host + "/hello:v1")
	if err != nil {
		t.Fatal(err)
	}
	if r2 := push(host+"/hello:on-base", &base); r2.UncompressedBytes <= r.UncompressedBytes {
		t.Errorf("image on a base: %d bytes uncompressed, the base alone %d", r2.UncompressedBytes, r.UncompressedBytes)
	}
}
