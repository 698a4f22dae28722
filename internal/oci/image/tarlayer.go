package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fileEntry is one entry of a layer fnopt writes.
type fileEntry struct {
	// name is the absolute path in the image, e.g. /var/runtime/bootstrap.
	name string
	// typ is tar.TypeDir, tar.TypeReg or tar.TypeSymlink.
	typ  byte
	mode int64
	// link is a symlink's target.
	link string
	// data is a regular file's content when src is empty.
	data []byte
	// src is a host file whose content the entry has; size is its size
	// when the layer was planned (a file that changes fails the write).
	src  string
	size int64
}

// layerSpec is a reproducible layer: entries are written sorted, every
// parent folder is present (Lambda rejects layers without them), owner
// root, times fixed to mtime.
type layerSpec struct {
	entries []fileEntry
	mtime   time.Time
}

// withParents returns the entries plus a 0755 folder entry for every
// parent folder not listed, sorted by path so the tar is reproducible.
func withParents(entries []fileEntry) []fileEntry {
	have := map[string]bool{}
	for _, e := range entries {
		have[e.name] = true
	}
	out := append([]fileEntry(nil), entries...)
	for _, e := range entries {
		for d := path.Dir(e.name); d != "/" && !have[d]; d = path.Dir(d) {
			have[d] = true
			out = append(out, fileEntry{name: d, typ: tar.TypeDir, mode: 0o755})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// writeTo writes the layer's uncompressed tar.
func (l layerSpec) writeTo(w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, e := range withParents(l.entries) {
		name := strings.TrimPrefix(e.name, "/")
		h := &tar.Header{
			Typeflag: e.typ,
			Name:     name,
			Linkname: e.link,
			Mode:     e.mode,
			ModTime:  l.mtime,
			Format:   tar.FormatPAX,
		}
		if e.typ == tar.TypeDir {
			h.Name += "/"
		}
		var src io.Reader
		switch {
		case e.typ != tar.TypeReg:
		case e.src != "":
			f, err := os.Open(e.src)
			if err != nil {
				return fmt.Errorf("reading %s: %w", e.src, err)
			}
			defer f.Close()
			h.Size = e.size
			src = io.LimitReader(f, e.size+1)
		default:
			h.Size = int64(len(e.data))
			src = bytes.NewReader(e.data)
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("writing tar header for %s: %w", e.name, err)
		}
		if src != nil {
			n, err := io.Copy(tw, src)
			if err != nil {
				return fmt.Errorf("writing %s into the layer: %w", e.name, err)
			}
			if n != h.Size {
				return fmt.Errorf("writing %s into the layer: %s changed while the image was built", e.name, e.src)
			}
		}
	}
	return tw.Close()
}

// layer turns the spec into a gzip-compressed v1.Layer of media type mt.
// The tar is produced on demand (streamed), never held whole; only the
// compressed bytes are cached, so that digest, upload and write share one
// compression.
func (l layerSpec) layer(mt types.MediaType) (v1.Layer, error) {
	opener := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(l.writeTo(pw)) }()
		return pr, nil
	}
	layer, err := tarball.LayerFromOpener(opener,
		tarball.WithMediaType(mt),
		tarball.WithCompressionLevel(gzip.BestCompression),
		tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("making layer: %w", err)
	}
	return layer, nil
}
