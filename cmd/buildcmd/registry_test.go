package buildcmd

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/registrytest"
)

// The image round-trips through a real registry server (Debian's
// docker-registry on loopback): pushed by fnopt build, pulled back by
// go-containerregistry with the same digest, and usable as a --base.
func TestBuildPushesToRegistry(t *testing.T) {
	host := registrytest.Start(t)
	dir := project(t, nil)
	r := buildJSON(t, dir, "--image-out", host+"/hello:v1", "--insecure")
	if r.Image == nil || r.Image.Destination != host+"/hello:v1" {
		t.Fatalf("image report %+v", r.Image)
	}
	ref, err := name.ParseReference(host+"/hello:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("pulling back: %v", err)
	}
	if desc.Digest.String() != r.Image.Digest {
		t.Errorf("registry has %s, build reported %s", desc.Digest, r.Image.Digest)
	}
	// Lambda rejects indexes: the pushed tag is a single manifest.
	if desc.MediaType != types.OCIManifestSchema1 && desc.MediaType != types.DockerManifestSchema2 {
		t.Errorf("pushed media type %s, want an image manifest", desc.MediaType)
	}

	// The pushed image as a base, pulled from the registry.
	r2 := buildJSON(t, dir, "--image-out", host+"/hello:on-base", "--base", host+"/hello:v1", "--insecure")
	if r2.Image.UncompressedBytes <= r.Image.UncompressedBytes {
		t.Errorf("image on a base: %d bytes uncompressed, base alone %d", r2.Image.UncompressedBytes, r.Image.UncompressedBytes)
	}
}
