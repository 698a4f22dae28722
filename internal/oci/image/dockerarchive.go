package image

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// A `docker save` tarball (manifest.json at the top, as docker, podman,
// skopeo's docker-archive and go-containerregistry's tarball package write
// it) has no descriptors: manifest.json names files, not digests. What can
// be checked is checked:
//   - the config against the digest its file is named after (docker names
//     it <digest>.json, go-containerregistry sha256:<digest>, docker 25
//     blobs/sha256/<digest>); the config's own rootfs.diff_ids are then
//     trusted;
//   - an uncompressed layer (what `docker save` writes) against its diff
//     ID, while it streams;
//   - a compressed layer against the digest its file is named after
//     (<digest>.tar.gz, blobs/sha256/<digest>), or, when its name says
//     none, against the digest it had when the tarball was loaded.
//
// The image is the one go-containerregistry's tarball package makes of the
// same file (uncompressed layers are compressed with gzip when written
// elsewhere, compressed ones are kept as they are); only the checks and
// the reading in place (no rescan of the tar for every file) differ.

// dockerManifest is manifest.json.
type dockerManifest []struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// namedDigestRE finds a digest in a file name: <hex>, <hex>.json,
// <hex>.tar, <hex>.tar.gz, <hex>.tar.zst, sha256:<hex>.
var namedDigestRE = regexp.MustCompile(`^(?:sha256:)?([0-9a-f]{64})(?:\.json|\.tar|\.tar\.gz|\.tar\.zst)?$`)

// digestOfName returns the sha256 digest a file of a tarball is named
// after, if it is.
func digestOfName(name string) (v1.Hash, bool) {
	m := namedDigestRE.FindStringSubmatch(path.Base(name))
	if m == nil {
		return v1.Hash{}, false
	}
	return v1.Hash{Algorithm: "sha256", Hex: m[1]}, true
}

// dockerLayer is one layer file of a `docker save` tarball.
type dockerLayer struct {
	file       string
	size       int64
	diffID     v1.Hash
	compressed bool
	mediaType  types.MediaType
	digest     v1.Hash // of the file; the diff ID for an uncompressed one
	// digestNamed: digest comes from the file's name, not from hashing
	// the file when it was loaded.
	digestNamed bool
}

// dockerImage is a `docker save` tarball's image, read in place.
type dockerImage struct {
	t      *tarFiles
	source string
	config []byte
	layers []*dockerLayer
}

// loadDockerArchive reads the only image of a `docker save` tarball.
func loadDockerArchive(t *tarFiles, source string) (v1.Image, error) {
	raw, err := readSmall(t, "manifest.json")
	if err != nil {
		return nil, err
	}
	var m dockerManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %v", err)
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("it holds %d images, not one", len(m))
	}
	img := &dockerImage{t: t, source: source}
	if img.config, err = readSmall(t, m[0].Config); err != nil {
		return nil, err
	}
	if d, ok := digestOfName(m[0].Config); ok {
		if err := checkBytes(img.config, d, -1, "config", source); err != nil {
			return nil, err
		}
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(img.config))
	if err != nil {
		return nil, fmt.Errorf("reading the config: %v", err)
	}
	if len(cf.RootFS.DiffIDs) != len(m[0].Layers) {
		return nil, fmt.Errorf("manifest.json lists %d layers, the config %d", len(m[0].Layers), len(cf.RootFS.DiffIDs))
	}
	for i, file := range m[0].Layers {
		l, err := img.layer(file, cf.RootFS.DiffIDs[i])
		if err != nil {
			return nil, err
		}
		img.layers = append(img.layers, l)
	}
	for _, l := range img.layers {
		if l.compressed {
			return partial.CompressedToImage(&compressedDockerImage{img})
		}
	}
	return partial.UncompressedToImage(img)
}

// layer looks at a layer file: its compression (by its first bytes) and
// its digest.
func (i *dockerImage) layer(file string, diffID v1.Hash) (*dockerLayer, error) {
	rc, size, err := i.t.open(file)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	magic, _ := br.Peek(4)
	l := &dockerLayer{file: file, size: size, diffID: diffID, digest: diffID,
		mediaType: types.DockerUncompressedLayer}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		l.compressed, l.mediaType = true, types.DockerLayer
	case bytes.HasPrefix(magic, zstdMagic):
		l.compressed, l.mediaType = true, types.OCILayerZStd
	default:
		return l, nil
	}
	if d, ok := digestOfName(file); ok {
		l.digest, l.digestNamed = d, true
		return l, nil
	}
	// Nothing names the file's digest: what it is now is what is checked
	// later (go-containerregistry hashes it here too).
	if l.digest, _, err = v1.SHA256(br); err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return l, nil
}

func (i *dockerImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *dockerImage) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }

// LayerByDiffID gives an uncompressed layer, checked against its diff ID
// as it streams.
func (i *dockerImage) LayerByDiffID(h v1.Hash) (partial.UncompressedLayer, error) {
	for _, l := range i.layers {
		if l.diffID == h {
			return &dockerUncompressed{i: i, l: l}, nil
		}
	}
	return nil, fmt.Errorf("diff ID %s is not in the image", h)
}

type dockerUncompressed struct {
	i *dockerImage
	l *dockerLayer
}

func (u *dockerUncompressed) DiffID() (v1.Hash, error)            { return u.l.diffID, nil }
func (u *dockerUncompressed) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }
func (u *dockerUncompressed) Uncompressed() (io.ReadCloser, error) {
	rc, size, err := u.i.t.open(u.l.file)
	if err != nil {
		return nil, err
	}
	return newCheckedReader(rc, u.l.diffID, size, "uncompressed layer", u.i.source)
}

// compressedDockerImage is a tarball whose layers are (some of them)
// compressed: its manifest lists the files as they are.
type compressedDockerImage struct{ *dockerImage }

func (i *compressedDockerImage) RawManifest() ([]byte, error) {
	cd, cs, err := v1.SHA256(bytes.NewReader(i.config))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.DockerManifestSchema2,
		Config: v1.Descriptor{MediaType: types.DockerConfigJSON, Size: cs, Digest: cd}}
	for _, l := range i.layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: l.mediaType, Size: l.size, Digest: l.digest})
	}
	return json.Marshal(m)
}

func (i *compressedDockerImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range i.layers {
		if l.digest == h {
			return &dockerCompressed{i: i.dockerImage, l: l}, nil
		}
	}
	return nil, fmt.Errorf("layer %s is not in the image", h)
}

type dockerCompressed struct {
	i *dockerImage
	l *dockerLayer
}

func (c *dockerCompressed) Digest() (v1.Hash, error)            { return c.l.digest, nil }
func (c *dockerCompressed) Size() (int64, error)                { return c.l.size, nil }
func (c *dockerCompressed) MediaType() (types.MediaType, error) { return c.l.mediaType, nil }
func (c *dockerCompressed) DiffID() (v1.Hash, error)            { return c.l.diffID, nil }
func (c *dockerCompressed) Compressed() (io.ReadCloser, error) {
	rc, size, err := c.i.t.open(c.l.file)
	if err != nil {
		return nil, err
	}
	kind := "layer"
	if !c.l.compressed {
		kind = "uncompressed layer"
	}
	return newCheckedReader(rc, c.l.digest, size, kind, c.i.source)
}
