package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// maxSkipped bounds Report.Skipped, so a layer of a million device nodes
// cannot make the report itself a memory bomb; SkippedCount stays exact.
const maxSkipped = 1000

func (r *Report) skip(e Entry, reason string) {
	r.SkippedCount++
	if len(r.Skipped) < maxSkipped {
		r.Skipped = append(r.Skipped, Skipped{Layer: e.Layer, Name: e.RawName, Reason: reason})
	}
}

// Flatten applies img's layers in order into dir, which must exist and
// should be empty. Layers are streamed; whiteouts, overwrites, hardlinks
// and symlinks follow the OCI layer rules. Unsafe entries (names with "..",
// device nodes, fifos, hardlinks to missing targets, paths through symlink
// loops) are skipped and listed in the report; symlinks are created as
// stored and never followed out of dir. A corrupt or truncated layer, or one
// over the limits, ends Flatten with an error and dir half-written: callers
// extract into a fresh temporary folder and remove it on error.
// Owners are restored when Flatten runs as root (as tar does), otherwise
// files belong to the caller; setuid/setgid bits are dropped and
// modification times are not kept.
func Flatten(ctx context.Context, img v1.Image, dir string, lim Limits) (*Report, error) {
	t, err := openTree(dir)
	if err != nil {
		return nil, err
	}
	defer t.close()
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing image layers: %w", err)
	}
	rep := &Report{Layers: len(layers)}
	f := &flattener{t: t, rep: rep, buf: make([]byte, 256<<10), chown: os.Geteuid() == 0, dirIndex: map[string]int{}}
	b := newBudget(lim)
	for i, l := range layers {
		f.created = map[string]bool{}
		if err := walkLayer(ctx, i, l, b, f.apply); err != nil {
			return rep, err
		}
	}
	// Directory modes go last and deepest first: a read-only directory
	// must not stop its own contents from being written.
	for i := len(f.dirModes) - 1; i >= 0; i-- {
		if err := f.chmodDir(f.dirModes[i].path, f.dirModes[i].mode); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

type dirMode struct {
	path string
	mode uint32
}

type flattener struct {
	t        *tree
	rep      *Report
	buf      []byte
	created  map[string]bool // paths written by the current layer
	dirModes []dirMode
	dirIndex map[string]int // where a folder's mode is in dirModes
	chown    bool           // restore owners (as root only, as tar does)
}

// apply writes one entry. Problems with the entry itself are reported and
// skipped; only failures of the walk or the disk stop the extraction.
func (f *flattener) apply(e Entry, r io.Reader) error {
	if e.Skip != "" {
		f.rep.skip(e, e.Skip)
		return nil
	}
	if e.Path == "." {
		// The root's own entry: its mode is the folder's business.
		return nil
	}
	var err error
	switch e.Whiteout {
	case WhiteoutFile:
		err = f.whiteout(e.Path)
	case WhiteoutOpaque:
		err = f.opaque(e.Path)
	default:
		err = f.write(e, r)
	}
	var skip skipError
	if errors.As(err, &skip) {
		f.rep.skip(e, skip.reason)
		return nil
	}
	return err
}

// skipError marks a problem of one entry, as opposed to one of the disk.
type skipError struct{ reason string }

func (s skipError) Error() string { return s.reason }

func skipf(format string, args ...any) error { return skipError{fmt.Sprintf(format, args...)} }

// entryErr classifies a failure to create an entry: a name the file system
// refuses (too long, invalid) is the entry's problem and is skipped; any
// other failure (disk full, I/O error) stops the extraction.
func entryErr(err error, format string, args ...any) error {
	if errors.Is(err, unix.ENAMETOOLONG) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EEXIST) ||
		errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EPERM) {
		return skipf(format+": %v", append(args, describe(err))...)
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// parent opens (creating if needed) the directory that will hold p.
func (f *flattener) parent(p string) (int, error) {
	fd, err := f.t.mkdirAll(path.Dir(p))
	if err != nil {
		return -1, skipf("cannot create parent of %s: %v", p, err)
	}
	return fd, nil
}

func (f *flattener) whiteout(p string) error {
	pfd, err := f.t.openDir(path.Dir(p))
	if err != nil {
		// Deleting below a missing directory deletes nothing.
		return nil
	}
	defer unix.Close(pfd)
	if err := removeAllAt(pfd, path.Base(p)); err != nil {
		return fmt.Errorf("applying whiteout of %s: %w", p, err)
	}
	return nil
}

// opaque empties directory p of what lower layers put there, keeping what
// the current layer already wrote (whiteouts may come after siblings).
func (f *flattener) opaque(p string) error {
	dfd, err := f.t.openDir(path.Dir(p))
	if err != nil {
		return nil
	}
	defer unix.Close(dfd)
	name := path.Base(p)
	if p == "." {
		name = "."
	}
	mode, ok, err := lstatAt(dfd, name)
	if err != nil || !ok || mode != unix.S_IFDIR {
		return nil
	}
	err = clearDirAt(dfd, name, func(child string) bool { return f.created[path.Join(p, child)] })
	if err != nil {
		return fmt.Errorf("applying opaque whiteout of %s: %w", p, err)
	}
	return nil
}

func (f *flattener) write(e Entry, r io.Reader) error {
	h := e.Header
	pfd, err := f.parent(e.Path)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	name := path.Base(e.Path)
	isDir := h.Typeflag == tar.TypeDir

	// What is there already goes, unless both are directories (they merge).
	mode, exists, err := lstatAt(pfd, name)
	if err != nil {
		return skipf("cannot inspect existing %s: %v", e.Path, err)
	}
	if exists && !(isDir && mode == unix.S_IFDIR) {
		if err := removeAllAt(pfd, name); err != nil {
			return fmt.Errorf("replacing %s: %w", e.Path, err)
		}
	}
	perm := uint32(h.Mode) & 0o1777 // setuid and setgid are dropped

	switch h.Typeflag {
	case tar.TypeDir:
		if !exists || mode != unix.S_IFDIR {
			if err := unix.Mkdirat(pfd, name, 0o755); err != nil {
				return entryErr(err, "creating directory %s", e.Path)
			}
		}
		// A folder listed again (by an upper layer) takes the new mode,
		// as its metadata in the merged tree does.
		if i, ok := f.dirIndex[e.Path]; ok {
			f.dirModes[i].mode = perm
		} else {
			f.dirIndex[e.Path] = len(f.dirModes)
			f.dirModes = append(f.dirModes, dirMode{e.Path, perm})
		}
	case tar.TypeReg:
		if err := f.writeFile(pfd, name, e.Path, perm, h.Size, r); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := unix.Symlinkat(h.Linkname, pfd, name); err != nil {
			return entryErr(err, "creating symlink %s", e.Path)
		}
	case tar.TypeLink:
		if err := f.link(pfd, name, e.Path, h.Linkname); err != nil {
			return err
		}
	default:
		return skipf("unsupported tar entry type %q", h.Typeflag)
	}
	if f.chown && h.Typeflag != tar.TypeLink {
		// Lambda runs functions as a non-root user: who owns a file decides
		// whether the function may read it, here as there. An owner the
		// kernel cannot represent leaves the file to us.
		err := unix.Fchownat(pfd, name, h.Uid, h.Gid, unix.AT_SYMLINK_NOFOLLOW)
		if err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("setting the owner of %s: %w", e.Path, err)
		}
	}
	f.created[e.Path] = true
	f.rep.Files++
	return nil
}

func (f *flattener) writeFile(pfd int, name, p string, perm uint32, size int64, r io.Reader) error {
	fd, err := unix.Openat(pfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return entryErr(err, "creating %s", p)
	}
	out := os.NewFile(uintptr(fd), p)
	n, err := io.CopyBuffer(out, io.LimitReader(r, size), f.buf)
	f.rep.Bytes += n
	if err == nil && n < size {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		err = out.Chmod(os.FileMode(perm & 0o777))
	}
	if cerr := out.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// link creates a hardlink to target, which must already exist inside the
// root and not be a directory. linkat without AT_SYMLINK_FOLLOW links a
// symlink itself, never what it points to.
func (f *flattener) link(pfd int, name, p, target string) error {
	tfd, err := f.t.openDir(path.Dir(target))
	if err != nil {
		return skipf("hardlink target %s does not exist: %v", target, describe(err))
	}
	defer unix.Close(tfd)
	tname := path.Base(target)
	mode, ok, err := lstatAt(tfd, tname)
	switch {
	case err != nil:
		return skipf("hardlink target %s: %v", target, err)
	case !ok:
		return skipf("hardlink target %s does not exist (yet)", target)
	case mode == unix.S_IFDIR:
		return skipf("hardlink target %s is a directory", target)
	}
	if err := unix.Linkat(tfd, tname, pfd, name, 0); err != nil {
		return entryErr(err, "creating hardlink %s to %s", p, target)
	}
	return nil
}

// chmodDir sets a directory's final mode. The directory is opened inside
// the root, so a later layer that replaced it by a symlink cannot redirect
// the chmod outside; a directory deleted since is simply gone.
func (f *flattener) chmodDir(p string, mode uint32) error {
	fd, err := openat2(f.t.root, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, mode); err != nil {
		return fmt.Errorf("setting mode of %s: %w", p, err)
	}
	return nil
}
