package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// An OCI image layout is read from a folder (oci:DIR) or from a tar file
// holding one (tar:FILE, as `skopeo copy … oci-archive:`, buildah and
// `podman save --format oci-archive` write it), through the same code:
// localFiles hides which. Every blob is checked against the descriptor
// that names it (blobcheck.go).

// localFiles is where the files of a local image are.
type localFiles interface {
	// open returns the content of the file at name (slash-separated,
	// relative to the layout or archive) and its size.
	open(name string) (io.ReadCloser, int64, error)
}

// dirFiles are the files of an OCI layout folder.
type dirFiles struct{ dir string }

func (d dirFiles) open(name string) (io.ReadCloser, int64, error) {
	f, err := os.Open(filepath.Join(d.dir, filepath.FromSlash(name)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%s: no %s in the layout", d.dir, name)
	}
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: %s is not a file", d.dir, name)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// tarFiles are the files of a tar file, read in place, never extracted.
type tarFiles struct {
	path  string
	files map[string]span
	// links are symbolic and hard links, by name: `docker save` links
	// legacy layer paths to blobs.
	links map[string]string
}

// span is where an entry's content sits in the tar file.
type span struct{ off, size int64 }

// maxJSONBytes bounds the index, manifests and config read into memory
// (a hostile file could claim anything).
const maxJSONBytes = 8 << 20

// indexTar lists the regular files and links of a tar file. Content is
// skipped with Seek, so a large tarball is not read to index it.
func indexTar(file string) (*tarFiles, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &tarFiles{path: file, files: map[string]span{}, links: map[string]string{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s as a tarball: %w", file, err)
		}
		name := cleanTarName(h.Name)
		switch h.Typeflag {
		case tar.TypeReg: // (archive/tar reads TypeRegA as TypeReg)
			// archive/tar reads whole 512-byte blocks and never ahead,
			// so after Next the file offset is where the content starts.
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, fmt.Errorf("reading %s as a tarball: %w", file, err)
			}
			t.files[name] = span{off: off, size: h.Size}
		case tar.TypeSymlink:
			t.links[name] = cleanTarName(path.Join(path.Dir(name), h.Linkname))
		case tar.TypeLink:
			t.links[name] = cleanTarName(h.Linkname)
		}
	}
}

func cleanTarName(name string) string { return strings.TrimPrefix(path.Clean("/"+name), "/") }

func (t *tarFiles) has(name string) bool {
	_, ok := t.files[name]
	return ok
}

func (t *tarFiles) open(name string) (io.ReadCloser, int64, error) {
	// Follow links, a few at most (a loop is an error, not a hang).
	for range 8 {
		target, ok := t.links[name]
		if !ok {
			break
		}
		name = target
	}
	s, ok := t.files[name]
	if !ok {
		return nil, 0, fmt.Errorf("%s: no %s in the archive", t.path, name)
	}
	f, err := os.Open(t.path)
	if err != nil {
		return nil, 0, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, s.off, s.size), f}, s.size, nil
}

// readSmall reads a manifest, index or config file whole, refusing one
// larger than such a file can be.
func readSmall(files localFiles, name string) ([]byte, error) {
	rc, size, err := files.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > maxJSONBytes {
		return nil, fmt.Errorf("%s is %d bytes, more than a manifest or config can be", name, size)
	}
	return io.ReadAll(rc)
}

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// ociLayout is an OCI image layout in a folder or an archive; source is
// how the user named it, for errors.
type ociLayout struct {
	files  localFiles
	source string
}

// blobBytes reads a small blob and checks it against its descriptor.
func (l *ociLayout) blobBytes(d v1.Descriptor, kind string) ([]byte, error) {
	if d.Size > maxJSONBytes {
		return nil, fmt.Errorf("%s %s of %s is %d bytes, more than a manifest or config can be", kind, d.Digest, l.source, d.Size)
	}
	b, err := readSmall(l.files, blobName(d.Digest))
	if err != nil {
		return nil, err
	}
	if err := checkBytes(b, d.Digest, d.Size, kind, l.source); err != nil {
		return nil, err
	}
	return b, nil
}

// index reads index.json, the layout's root: nothing names its digest.
func (l *ociLayout) index() (v1.ImageIndex, error) {
	raw, err := readSmall(l.files, "index.json")
	if err != nil {
		return nil, err
	}
	return &layoutIndex{l: l, raw: raw}, nil
}

// layoutIndex is index.json or an index blob of a layout.
type layoutIndex struct {
	l   *ociLayout
	raw []byte
}

var _ v1.ImageIndex = (*layoutIndex)(nil)

func (x *layoutIndex) MediaType() (types.MediaType, error) {
	m, err := x.IndexManifest()
	if err != nil {
		return "", err
	}
	if m.MediaType == "" {
		return types.OCIImageIndex, nil
	}
	return m.MediaType, nil
}

func (x *layoutIndex) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(x.raw))
	return h, err
}

func (x *layoutIndex) Size() (int64, error)         { return int64(len(x.raw)), nil }
func (x *layoutIndex) RawManifest() ([]byte, error) { return x.raw, nil }
func (x *layoutIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(x.raw))
}

// descriptor is the index's entry for h: its size is checked too. A digest
// the index does not list is still read, checked by digest alone.
func (x *layoutIndex) descriptor(h v1.Hash) v1.Descriptor {
	if m, err := x.IndexManifest(); err == nil {
		for _, d := range m.Manifests {
			if d.Digest == h {
				return d
			}
		}
	}
	return v1.Descriptor{Digest: h, Size: -1}
}

func (x *layoutIndex) Image(h v1.Hash) (v1.Image, error) {
	raw, err := x.l.blobBytes(x.descriptor(h), "manifest")
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&layoutImage{l: x.l, raw: raw})
}

func (x *layoutIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	raw, err := x.l.blobBytes(x.descriptor(h), "index")
	if err != nil {
		return nil, err
	}
	return &layoutIndex{l: x.l, raw: raw}, nil
}

// layoutImage is an image manifest of a layout (already checked against
// its digest); partial fills in the rest of v1.Image.
type layoutImage struct {
	l   *ociLayout
	raw []byte
}

var _ partial.CompressedImageCore = (*layoutImage)(nil)

func (i *layoutImage) manifest() (*v1.Manifest, error) {
	return v1.ParseManifest(bytes.NewReader(i.raw))
}

func (i *layoutImage) MediaType() (types.MediaType, error) {
	m, err := i.manifest()
	if err != nil {
		return "", err
	}
	if m.MediaType == "" {
		return types.OCIManifestSchema1, nil
	}
	return m.MediaType, nil
}

func (i *layoutImage) RawManifest() ([]byte, error) { return i.raw, nil }

func (i *layoutImage) RawConfigFile() ([]byte, error) {
	m, err := i.manifest()
	if err != nil {
		return nil, err
	}
	return i.l.blobBytes(m.Config, "config")
}

func (i *layoutImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	m, err := i.manifest()
	if err != nil {
		return nil, err
	}
	if h == m.Config.Digest {
		return &layoutBlob{l: i.l, desc: m.Config, kind: "config"}, nil
	}
	for _, d := range m.Layers {
		if d.Digest == h {
			return &layoutBlob{l: i.l, desc: d, kind: "layer"}, nil
		}
	}
	return nil, fmt.Errorf("layer %s is not in the manifest", h)
}

// layoutBlob is a layer (or the config) of a layout, checked against its
// descriptor as it is read.
type layoutBlob struct {
	l    *ociLayout
	desc v1.Descriptor
	kind string
}

func (b *layoutBlob) Digest() (v1.Hash, error)            { return b.desc.Digest, nil }
func (b *layoutBlob) Size() (int64, error)                { return b.desc.Size, nil }
func (b *layoutBlob) MediaType() (types.MediaType, error) { return b.desc.MediaType, nil }

// Descriptor keeps what the manifest says of the layer (URLs and
// annotations) when the image is written elsewhere.
func (b *layoutBlob) Descriptor() (*v1.Descriptor, error) { return &b.desc, nil }

func (b *layoutBlob) Compressed() (io.ReadCloser, error) {
	rc, _, err := b.l.files.open(blobName(b.desc.Digest))
	if err != nil {
		return nil, err
	}
	return newCheckedReader(rc, b.desc.Digest, b.desc.Size, b.kind, b.l.source)
}
