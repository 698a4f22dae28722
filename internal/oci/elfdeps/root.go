// Package elfdeps finds what a dynamically linked ELF program needs to
// start: its interpreter (PT_INTERP) and the shared libraries it and they
// name (DT_NEEDED), searched as glibc's loader searches them (DT_RPATH,
// LD_LIBRARY_PATH, DT_RUNPATH with $ORIGIN, /etc/ld.so.conf and its
// includes, the default folders) inside a root folder: a flattened image,
// never the host's own files unless the root is "/".
package elfdeps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Root is a folder seen as the "/" of an image. Paths given to its methods
// are absolute in the image; symlinks are followed inside the root only
// (an absolute target starts again from the root, ".." stops at it), so
// nothing outside the folder is ever read.
type Root struct {
	dir string
}

// NewRoot returns the image root kept in dir.
func NewRoot(dir string) *Root { return &Root{dir: dir} }

// maxLinks is how many symlinks one resolution follows, as Linux does.
const maxLinks = 40

// ErrLoop is returned for symlink loops (or chains longer than maxLinks).
var ErrLoop = errors.New("too many levels of symbolic links")

// Resolved is a path resolved inside the root.
type Resolved struct {
	// Path is the final path, with no symlink in it.
	Path string
	// Links are the symlinks followed on the way, in order (image
	// paths): an image keeping Path must keep them too for the original
	// name to work.
	Links []string
	// Info describes the final file (not followed further).
	Info fs.FileInfo
}

// Resolve follows p's symlinks inside the root. A missing component gives
// an error wrapping fs.ErrNotExist.
func (r *Root) Resolve(p string) (Resolved, error) {
	var res Resolved
	todo := splitPath(p)
	cur := "/"
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		// cur holds no symlink (each was replaced by its target), so
		// the host path below cannot leave the root.
		fi, err := os.Lstat(r.host(next))
		if err != nil {
			return res, fmt.Errorf("resolving %s in the image: %s: %w", p, next, fs.ErrNotExist)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			hops++
			if hops > maxLinks {
				return res, fmt.Errorf("resolving %s in the image: %w", p, ErrLoop)
			}
			target, err := os.Readlink(r.host(next))
			if err != nil {
				return res, fmt.Errorf("resolving %s in the image: %w", p, err)
			}
			res.Links = append(res.Links, next)
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			todo = append(splitPath(target), todo...)
			continue
		}
		if len(todo) > 0 && !fi.IsDir() {
			return res, fmt.Errorf("resolving %s in the image: %s is not a folder: %w", p, next, fs.ErrNotExist)
		}
		cur = next
	}
	fi, err := os.Lstat(r.host(cur))
	if err != nil {
		return res, fmt.Errorf("resolving %s in the image: %w", p, err)
	}
	res.Path, res.Info = cur, fi
	return res, nil
}

func splitPath(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// host maps a resolved image path to the host path under the root.
func (r *Root) host(p string) string {
	return filepath.Join(r.dir, filepath.FromSlash(path.Clean("/"+p)))
}

// Open opens the file p resolves to for reading.
func (r *Root) Open(p string) (*os.File, Resolved, error) {
	res, err := r.Resolve(p)
	if err != nil {
		return nil, res, err
	}
	if !res.Info.Mode().IsRegular() {
		return nil, res, fmt.Errorf("%s is not a regular file in the image", p)
	}
	f, err := os.Open(r.host(res.Path))
	if err != nil {
		return nil, res, fmt.Errorf("opening %s in the image: %w", p, err)
	}
	return f, res, nil
}

// ReadFile reads the file p resolves to, refusing files over max bytes.
func (r *Root) ReadFile(p string, max int64) ([]byte, error) {
	f, res, err := r.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if res.Info.Size() > max {
		return nil, fmt.Errorf("%s has %d bytes, more than the %d read", p, res.Info.Size(), max)
	}
	b := make([]byte, res.Info.Size())
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		err = nil
	}
	return b[:n], err
}

// Glob lists the image paths matching pattern (path.Match syntax in the
// last component only, as ld.so.conf includes use it), sorted.
func (r *Root) Glob(pattern string) ([]string, error) {
	dir, base := path.Split(pattern)
	res, err := r.Resolve(dir)
	if err != nil || !res.Info.IsDir() {
		return nil, nil
	}
	ents, err := os.ReadDir(r.host(res.Path))
	if err != nil {
		return nil, fmt.Errorf("listing %s in the image: %w", dir, err)
	}
	var out []string
	for _, e := range ents {
		if ok, _ := path.Match(base, e.Name()); ok {
			out = append(out, path.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}
