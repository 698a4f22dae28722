package slim

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/fnopt/fnopt/internal/countio"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
)

// layerEntry is one entry of the layer written: a kept path with its
// metadata from the image, or a whiteout.
type layerEntry struct {
	path     string
	file     rootfs.File
	whiteout bool
}

// layerFile is a written layer: gzip-compressed tar in a file.
type layerFile struct {
	path   string
	tarLen int64 // bytes of the uncompressed tar
}

// writeLayer writes entries (sorted, parents first) as a reproducible
// gzip tar to file: fixed times, the image's owners and modes, contents
// read from the flattened image in rootDir. Entries that the flattened
// image does not hold as the layers said (refused while flattening) are
// left out and returned as notes.
func writeLayer(file, rootDir string, entries []layerEntry, mtime time.Time) (*layerFile, []string, error) {
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the flattened image: %w", err)
	}
	defer root.Close()
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the layer: %w", err)
	}
	defer f.Close()
	// The default level: the best one took more CPU than all the rest of
	// a minimisation (reading a 500 MB image included) for a layer 2.5%
	// smaller.
	zw, err := gzip.NewWriterLevel(f, gzip.DefaultCompression)
	if err != nil {
		return nil, nil, err
	}
	tc := countio.NewWriter(zw)
	tw := tar.NewWriter(tc)
	lf := &layerFile{path: file}
	var notes []string
	written := map[string]bool{}
	for _, e := range entries {
		name := strings.TrimPrefix(e.path, "/")
		if e.whiteout {
			hdr := &tar.Header{Typeflag: tar.TypeReg, Name: path.Join(path.Dir(name), ".wh."+path.Base(name)), Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX}
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, nil, fmt.Errorf("writing whiteout %s: %w", e.path, err)
			}
			continue
		}
		m := e.file
		hdr := &tar.Header{Name: name, Mode: m.Mode, Uid: m.Uid, Gid: m.Gid, ModTime: mtime, Format: tar.FormatPAX}
		var content *os.File
		fi, lerr := root.Lstat(name)
		switch m.Type {
		case tar.TypeDir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
			if lerr != nil || !fi.IsDir() {
				notes = append(notes, e.path+": not a folder in the flattened image; left out")
				continue
			}
		case tar.TypeSymlink:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, m.Link
			if lerr != nil || fi.Mode()&fs.ModeSymlink == 0 {
				notes = append(notes, e.path+": not a symlink in the flattened image; left out")
				continue
			}
		case tar.TypeReg, tar.TypeLink:
			if lerr != nil || !fi.Mode().IsRegular() {
				notes = append(notes, e.path+": not a file in the flattened image; left out")
				continue
			}
			if m.Type == tar.TypeLink && written[m.Link] && m.Link < e.path {
				// Hardlinks stay hardlinks when their target is in the
				// layer before them.
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, strings.TrimPrefix(m.Link, "/")
				break
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
			if m.Type == tar.TypeLink {
				hdr.Mode = int64(fi.Mode().Perm())
			}
			if content, err = root.Open(name); err != nil {
				return nil, nil, fmt.Errorf("reading %s from the flattened image: %w", e.path, err)
			}
		default:
			continue
		}
		if err := tw.WriteHeader(hdr); err != nil {
			closeFile(content)
			return nil, nil, fmt.Errorf("writing %s into the layer: %w", e.path, err)
		}
		if content != nil {
			n, err := io.Copy(tw, content)
			content.Close()
			if err != nil || n != hdr.Size {
				return nil, nil, fmt.Errorf("writing %s into the layer: %d of %d bytes: %v", e.path, n, hdr.Size, err)
			}
		}
		written[e.path] = true
	}
	if err := tw.Close(); err != nil {
		return nil, nil, fmt.Errorf("finishing the layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, nil, fmt.Errorf("compressing the layer: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, nil, fmt.Errorf("writing the layer: %w", err)
	}
	lf.tarLen = tc.N()
	return lf, notes, nil
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
