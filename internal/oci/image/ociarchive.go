package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/countio"
)

// ociArchive is an OCI image layout stored in a tar file, as `skopeo
// copy … oci-archive:`, buildah and `podman save --format oci-archive`
// write it. Blobs are read in place from the file, never extracted.
type ociArchive struct {
	path  string
	files map[string]span
}

// span is where an entry's content sits in the tar file.
type span struct{ off, size int64 }

// maxJSONBytes bounds the index, manifests and config read into memory
// from an archive (a hostile file could claim anything).
const maxJSONBytes = 8 << 20

// tarKind tells a `docker save` tarball ("docker", manifest.json at the
// top) from an OCI archive ("oci", index.json and no manifest.json); it
// returns the archive's entry index for the latter.
func tarKind(file string) (string, *ociArchive, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	// archive/tar reads whole 512-byte blocks and never ahead, so after
	// Next the count is where the entry's content starts.
	or := countio.NewReader(f)
	tr := tar.NewReader(or)
	a := &ociArchive{path: file, files: map[string]span{}}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, fmt.Errorf("reading %s as a tarball: %w", file, err)
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		if name == "manifest.json" {
			return "docker", nil, nil
		}
		if h.Typeflag == tar.TypeReg { // (archive/tar reads TypeRegA as TypeReg)
			a.files[name] = span{off: or.N(), size: h.Size}
		}
	}
	if _, ok := a.files["index.json"]; ok {
		return "oci", a, nil
	}
	return "", nil, fmt.Errorf("%s has neither manifest.json (docker save) nor index.json (OCI archive)", file)
}

func (a *ociArchive) open(name string) (io.ReadCloser, int64, error) {
	s, ok := a.files[name]
	if !ok {
		return nil, 0, fmt.Errorf("%s: no %s in the archive", a.path, name)
	}
	f, err := os.Open(a.path)
	if err != nil {
		return nil, 0, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, s.off, s.size), f}, s.size, nil
}

func (a *ociArchive) bytes(name string) ([]byte, error) {
	rc, size, err := a.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > maxJSONBytes {
		return nil, fmt.Errorf("%s: %s is %d bytes, more than a manifest or config can be", a.path, name, size)
	}
	return io.ReadAll(rc)
}

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

func (a *ociArchive) index() (v1.ImageIndex, error) {
	raw, err := a.bytes("index.json")
	if err != nil {
		return nil, err
	}
	return &archiveIndex{a: a, raw: raw}, nil
}

// archiveIndex is index.json or an index blob of an OCI archive.
type archiveIndex struct {
	a   *ociArchive
	raw []byte
}

var _ v1.ImageIndex = (*archiveIndex)(nil)

func (x *archiveIndex) MediaType() (types.MediaType, error) {
	m, err := x.IndexManifest()
	if err != nil {
		return "", err
	}
	if m.MediaType == "" {
		return types.OCIImageIndex, nil
	}
	return m.MediaType, nil
}

func (x *archiveIndex) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(x.raw))
	return h, err
}

func (x *archiveIndex) Size() (int64, error)         { return int64(len(x.raw)), nil }
func (x *archiveIndex) RawManifest() ([]byte, error) { return x.raw, nil }
func (x *archiveIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(x.raw))
}

func (x *archiveIndex) Image(h v1.Hash) (v1.Image, error) {
	raw, err := x.a.bytes(blobName(h))
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&archiveImage{a: x.a, raw: raw})
}

func (x *archiveIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	raw, err := x.a.bytes(blobName(h))
	if err != nil {
		return nil, err
	}
	return &archiveIndex{a: x.a, raw: raw}, nil
}

// archiveImage is an image manifest of an OCI archive; partial fills in
// the rest of v1.Image.
type archiveImage struct {
	a   *ociArchive
	raw []byte
}

var _ partial.CompressedImageCore = (*archiveImage)(nil)

func (i *archiveImage) manifest() (*v1.Manifest, error) {
	return v1.ParseManifest(bytes.NewReader(i.raw))
}

func (i *archiveImage) MediaType() (types.MediaType, error) {
	m, err := i.manifest()
	if err != nil {
		return "", err
	}
	if m.MediaType == "" {
		return types.OCIManifestSchema1, nil
	}
	return m.MediaType, nil
}

func (i *archiveImage) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *archiveImage) RawConfigFile() ([]byte, error) {
	m, err := i.manifest()
	if err != nil {
		return nil, err
	}
	return i.a.bytes(blobName(m.Config.Digest))
}

func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	m, err := i.manifest()
	if err != nil {
		return nil, err
	}
	if h == m.Config.Digest {
		return &archiveBlob{a: i.a, desc: m.Config}, nil
	}
	for _, d := range m.Layers {
		if d.Digest == h {
			return &archiveBlob{a: i.a, desc: d}, nil
		}
	}
	return nil, fmt.Errorf("layer %s is not in the manifest", h)
}

// archiveBlob is a layer blob of an OCI archive.
type archiveBlob struct {
	a    *ociArchive
	desc v1.Descriptor
}

func (b *archiveBlob) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *archiveBlob) Size() (int64, error)                { return b.desc.Size, nil }
func (b *archiveBlob) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }
func (b *archiveBlob) Compressed() (io.ReadCloser, error) {
	rc, _, err := b.a.open(blobName(b.desc.Digest))
	return rc, err
}
