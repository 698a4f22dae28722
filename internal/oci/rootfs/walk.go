// Package rootfs turns an OCI image into a root filesystem without trusting
// its layers: Flatten applies them in order into a folder, resolving every
// path inside that folder and never following a symlink out of it; Walk
// streams the same entries without touching the disk, and Tree applies them
// in memory by Flatten's rules, for tools that only need to know what the
// image holds (image minimisation, the compliance check).
package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/countio"
)

// Defaults used when a Limits field is zero. Lambda refuses images larger
// than 10 GB uncompressed, so nothing bigger can be a valid function image.
const (
	DefaultMaxBytes = 10 << 30
	DefaultMaxFiles = 1 << 20
)

// Limits bound how much an image may make us read and write, so that a
// decompression bomb ends with an error instead of a full disk.
type Limits struct {
	// MaxBytes bounds the uncompressed tar bytes read over all layers
	// (headers, padding and contents, skipped entries included).
	MaxBytes int64
	// MaxFiles bounds the number of tar entries over all layers.
	MaxFiles int64
	// MaxFileBytes bounds the size of a single entry; zero means MaxBytes.
	MaxFileBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxFileBytes <= 0 || l.MaxFileBytes > l.MaxBytes {
		l.MaxFileBytes = l.MaxBytes
	}
	return l
}

// Whiteout says whether an entry deletes something from the layers below.
type Whiteout int

const (
	// NoWhiteout is an ordinary entry.
	NoWhiteout Whiteout = iota
	// WhiteoutFile (".wh.NAME") deletes Path from the layers below.
	WhiteoutFile
	// WhiteoutOpaque (".wh..wh..opq") hides everything the layers below
	// hold inside the directory Path.
	WhiteoutOpaque
)

// Entry is one tar entry of one layer, with its name made safe.
type Entry struct {
	// Path is the cleaned, slash-separated path relative to the root
	// ("usr/bin/x", "." for the root itself). It never starts with "/" and
	// never contains "..". Empty when Skip is set because the name was unsafe.
	Path string
	// RawName is the name as stored in the layer.
	RawName string
	// Header is a copy of the tar header with Name set to Path and, for
	// hardlinks, Linkname cleaned the same way. Symlink targets are kept
	// as stored: they are data, resolved inside the root by whoever follows them.
	Header *tar.Header
	// Layer is the layer's index, 0 being the bottom layer.
	Layer int
	// Whiteout is set for deletion markers; Path is then what they delete.
	Whiteout Whiteout
	// Skip, when not empty, says why the entry is not part of the
	// filesystem (unsafe name, device node, ...). Such entries are only
	// reported; they never change the merged view.
	Skip string
}

// WalkFunc receives each entry; r streams its contents and is only valid
// during the call. Returning an error stops the walk with that error.
type WalkFunc func(e Entry, r io.Reader) error

// Walk calls fn for every entry of every layer, bottom layer first, in
// the order the layers store them, whiteouts and skipped entries included.
// Nothing is written to disk and no layer is held in memory.
func Walk(ctx context.Context, img v1.Image, lim Limits, fn WalkFunc) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("listing image layers: %w", err)
	}
	b := newBudget(lim)
	for i, l := range layers {
		if err := walkLayer(ctx, i, l, b, fn); err != nil {
			return err
		}
	}
	return nil
}

// budget enforces Limits across all layers of one walk.
type budget struct {
	lim   Limits
	bytes int64
	files int64
}

func newBudget(lim Limits) *budget { return &budget{lim: lim.withDefaults()} }

// ErrLimit is wrapped by the errors returned when an image exceeds Limits.
var ErrLimit = errors.New("image exceeds the extraction limits")

// walkLayer streams one layer's tar and calls fn for each entry.
func walkLayer(ctx context.Context, index int, l v1.Layer, b *budget, fn WalkFunc) (err error) {
	what := fmt.Sprintf("layer %d", index)
	if d, derr := l.Digest(); derr == nil {
		what = fmt.Sprintf("layer %d (%s)", index, d)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return fmt.Errorf("opening %s: %w", what, err)
	}
	defer func() {
		// Closing a remote or compressed layer checks its digest.
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("reading %s: %w", what, cerr)
		}
	}()
	ra := newReadahead(rc, 1<<20, 4)
	defer ra.Close()
	// The layer may use what is left of the budget of all layers.
	over := fmt.Errorf("%w: more than %d uncompressed bytes (Limits.MaxBytes)", ErrLimit, b.lim.MaxBytes)
	counted := countio.NewLimitedReader(ra, b.lim.MaxBytes-b.bytes, over)
	defer func() { b.bytes += counted.N() }()
	tr := tar.NewReader(counted)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: corrupt or truncated tar: %w", what, err)
		}
		b.files++
		if b.files > b.lim.MaxFiles {
			return fmt.Errorf("reading %s: %w: more than %d entries (Limits.MaxFiles)", what, ErrLimit, b.lim.MaxFiles)
		}
		if hdr.Size > b.lim.MaxFileBytes {
			return fmt.Errorf("reading %s: %w: %q has %d bytes, more than %d (Limits.MaxFileBytes)", what, ErrLimit, hdr.Name, hdr.Size, b.lim.MaxFileBytes)
		}
		e := EntryOf(hdr, index)
		if err := fn(e, contentReader{tr}); err != nil {
			var rerr readError
			if errors.As(err, &rerr) && !errors.Is(err, ErrLimit) {
				return fmt.Errorf("reading %s: corrupt or truncated layer at %q: %w", what, hdr.Name, rerr.err)
			}
			return fmt.Errorf("%s: %q: %w", what, hdr.Name, err)
		}
	}
}

// contentReader marks errors of the layer stream, so that a truncated or
// corrupt layer is told apart from a failing callback or disk.
type contentReader struct{ r io.Reader }

func (c contentReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = readError{err}
	}
	return n, err
}

type readError struct{ err error }

func (r readError) Error() string { return r.err.Error() }
func (r readError) Unwrap() error { return r.err }

// Whiteout markers, as the OCI image spec names them.
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// EntryOf is the entry Walk passes for header hdr of layer index: its name
// made safe, what it is, or why it is skipped. Readers of layers that do
// not go through Walk (image.Check reads its own) classify entries with it
// so that every view of a layer follows the same rules.
func EntryOf(hdr *tar.Header, layer int) Entry {
	e := Entry{RawName: hdr.Name, Layer: layer}
	p, err := cleanName(hdr.Name)
	if err != nil {
		e.Skip = err.Error()
		e.Header = hdr
		return e
	}
	h := *hdr
	h.Name = p
	e.Path, e.Header = p, &h

	base := path.Base(p)
	switch {
	case base == whiteoutOpaque:
		e.Whiteout, e.Path = WhiteoutOpaque, path.Dir(p)
		return e
	case strings.HasPrefix(base, whiteoutMeta):
		e.Skip = "aufs metadata entry"
		return e
	case strings.HasPrefix(base, whiteoutPrefix):
		name := strings.TrimPrefix(base, whiteoutPrefix)
		if name == "" || name == "." || name == ".." {
			e.Skip = "invalid whiteout name"
			return e
		}
		e.Whiteout, e.Path = WhiteoutFile, path.Join(path.Dir(p), name)
		return e
	}

	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir: // (archive/tar reads TypeRegA as one of them)
	case tar.TypeSymlink:
		if hdr.Linkname == "" {
			e.Skip = "symlink with an empty target"
		}
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil || target == "." {
			e.Skip = fmt.Sprintf("hardlink target %q is unsafe", hdr.Linkname)
			return e
		}
		h.Linkname = target
	case tar.TypeChar, tar.TypeBlock:
		e.Skip = "device node (not allowed in a function image)"
	case tar.TypeFifo:
		e.Skip = "fifo (not allowed in a function image)"
	default:
		e.Skip = fmt.Sprintf("unsupported tar entry type %q", hdr.Typeflag)
	}
	if p == "." && e.Skip == "" && hdr.Typeflag != tar.TypeDir {
		e.Skip = "entry replaces the root directory"
	}
	return e
}

// cleanName turns a tar name into a path relative to the root. Leading
// slashes are dropped (as tar itself does); any ".." component rejects the
// entry, since no honest image needs one and neutralising it would silently
// write somewhere other than the author meant.
func cleanName(name string) (string, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return "", errors.New("name contains a NUL byte")
	}
	rel := strings.TrimLeft(name, "/")
	for _, c := range strings.Split(rel, "/") {
		if c == ".." {
			return "", errors.New(`name contains a ".." component`)
		}
	}
	return path.Clean("./" + rel), nil
}
