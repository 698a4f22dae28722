package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// File is one path of an image's merged file tree (what a container sees
// once every layer is applied), described by its tar header.
type File struct {
	// Path is absolute and clean.
	Path string
	// Type is the tar type flag: tar.TypeReg, TypeDir, TypeSymlink,
	// TypeLink (hardlink), TypeChar, ...
	Type byte
	// Mode holds the permission bits (and setuid/setgid/sticky).
	Mode fs.FileMode
	Size int64
	// Link is a symlink's target as written, or a hardlink's target as
	// an absolute path.
	Link string
	// Layer is the index of the layer the file comes from.
	Layer int
	// Head is the start of the content (up to headBytes) of executable
	// regular files: enough for the ELF header and program headers or a
	// #! line.
	Head []byte
}

// headBytes of every executable file are kept while reading layers: the
// ELF header, program headers and PT_INTERP of ordinary executables sit
// in the first kilobyte.
const headBytes = 2048

// Files is the merged file tree of an image: metadata only, no contents
// beyond File.Head.
type Files struct {
	root *node
}

type node struct {
	File
	children map[string]*node
}

func newFiles() *Files {
	return &Files{root: &node{File: File{Path: "/", Type: tar.TypeDir, Mode: 0o755, Layer: -1}, children: map[string]*node{}}}
}

// cleanPath makes a tar entry name absolute and clean; ".." cannot climb
// above the root.
func cleanPath(name string) string {
	return path.Clean("/" + name)
}

// parent returns the folder node of p, creating missing folders (a layer
// may add a file whose folders it does not list; they then exist with
// default metadata). A lower layer's non-folder on the way (a symlink, a
// file) is replaced by a folder, as overlayfs shows an upper folder over
// a lower non-folder.
func (f *Files) parent(p string, layer int) *node {
	cur := f.root
	dir := path.Dir(p)
	if dir == "/" {
		return cur
	}
	walked := ""
	for _, c := range strings.Split(strings.TrimPrefix(dir, "/"), "/") {
		walked += "/" + c
		next := cur.children[c]
		if next == nil || next.Type != tar.TypeDir {
			next = &node{File: File{Path: walked, Type: tar.TypeDir, Mode: 0o755, Layer: layer}, children: map[string]*node{}}
			cur.children[c] = next
		}
		cur = next
	}
	return cur
}

// lookupNode finds p without following symlinks.
func (f *Files) lookupNode(p string) *node {
	p = cleanPath(p)
	if p == "/" {
		return f.root
	}
	cur := f.root
	for _, c := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if cur.children == nil {
			return nil
		}
		cur = cur.children[c]
		if cur == nil {
			return nil
		}
	}
	return cur
}

// whiteout deletes p and everything under it.
func (f *Files) whiteout(p string) {
	p = cleanPath(p)
	if p == "/" {
		return
	}
	if dir := f.lookupNode(path.Dir(p)); dir != nil && dir.children != nil {
		delete(dir.children, path.Base(p))
	}
}

// opaque empties folder p (an opaque whiteout hides the lower layers'
// content of a folder).
func (f *Files) opaque(p string) {
	if dir := f.lookupNode(p); dir != nil && dir.children != nil {
		dir.children = map[string]*node{}
	}
}

// add puts one entry of a layer into the tree. A folder over a folder
// keeps the children (folders merge); anything else replaces what was
// there.
func (f *Files) add(e File) {
	if e.Path == "/" {
		f.root.Mode = e.Mode
		return
	}
	dir := f.parent(e.Path, e.Layer)
	name := path.Base(e.Path)
	old := dir.children[name]
	if e.Type == tar.TypeDir && old != nil && old.Type == tar.TypeDir {
		old.File = e
		return
	}
	n := &node{File: e}
	if e.Type == tar.TypeDir {
		n.children = map[string]*node{}
	}
	dir.children[name] = n
}

// applyLayer applies one layer's entries the way overlayfs and containerd
// do: the layer's whiteouts first remove lower-layer paths, then its
// entries are added.
func (f *Files) applyLayer(entries []File) {
	for _, e := range entries {
		base := path.Base(e.Path)
		switch {
		case base == ".wh..wh..opq":
			f.opaque(path.Dir(e.Path))
		case strings.HasPrefix(base, ".wh."):
			f.whiteout(path.Join(path.Dir(e.Path), strings.TrimPrefix(base, ".wh.")))
		}
	}
	for _, e := range entries {
		if strings.HasPrefix(path.Base(e.Path), ".wh.") {
			continue
		}
		f.add(e)
	}
}

// Lookup returns the file at p without following a symlink at p itself
// (symlinked folders on the way are not followed either).
func (f *Files) Lookup(p string) (File, bool) {
	n := f.lookupNode(p)
	if n == nil {
		return File{}, false
	}
	return n.File, true
}

// Paths lists every path in the tree, sorted.
func (f *Files) Paths() []string {
	var out []string
	var walk func(n *node)
	walk = func(n *node) {
		out = append(out, n.Path)
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(f.root)
	sort.Strings(out)
	return out
}

// maxLinks bounds symlink hops, as Linux does (ELOOP after 40).
const maxLinks = 40

// ErrLoop is returned for a symlink loop (or a chain longer than Linux
// follows).
var ErrLoop = errors.New("too many levels of symbolic links")

// Resolve follows symlinks (inside the image; a link never leaves its
// root, ".." stops at /) and hardlinks, and returns the final path and
// file. A missing path gives an error wrapping fs.ErrNotExist.
func (f *Files) Resolve(p string) (string, File, error) {
	hops := 0
	var stack []*node // folders from the root down to the current one
	todo := strings.Split(strings.TrimPrefix(cleanPath(p), "/"), "/")
	cur := f.root
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 0 {
				cur, stack = stack[len(stack)-1], stack[:len(stack)-1]
			}
			continue
		}
		if cur.Type != tar.TypeDir {
			return "", File{}, fmt.Errorf("resolving %s: %s is not a folder", p, cur.Path)
		}
		next := cur.children[c]
		if next == nil {
			return "", File{}, fmt.Errorf("resolving %s: %s: %w", p, path.Join(cur.Path, c), fs.ErrNotExist)
		}
		switch next.Type {
		case tar.TypeSymlink:
			hops++
			if hops > maxLinks {
				return "", File{}, fmt.Errorf("resolving %s: %w", p, ErrLoop)
			}
			target := strings.Split(next.Link, "/")
			if strings.HasPrefix(next.Link, "/") {
				cur, stack = f.root, nil
			}
			todo = append(target, todo...)
			continue
		case tar.TypeLink:
			hops++
			if hops > maxLinks {
				return "", File{}, fmt.Errorf("resolving %s: %w", p, ErrLoop)
			}
			cur, stack = f.root, nil
			todo = append(strings.Split(strings.TrimPrefix(next.Link, "/"), "/"), todo...)
			continue
		}
		stack = append(stack, cur)
		cur = next
	}
	return cur.Path, cur.File, nil
}

// LookPath finds a command as exec does in a container: a name with a
// slash is taken as a path (relative ones from workdir), other names are
// searched in pathEnv (a PATH value). It returns the first match that is
// an executable regular file; otherwise the first match found, or an
// error wrapping fs.ErrNotExist.
func (f *Files) LookPath(file, pathEnv, workdir string) (string, File, error) {
	if strings.Contains(file, "/") {
		if !strings.HasPrefix(file, "/") {
			if workdir == "" {
				workdir = "/"
			}
			file = path.Join(workdir, file)
		}
		_, fi, err := f.Resolve(file)
		return file, fi, err
	}
	var first *File
	var firstPath string
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		if !strings.HasPrefix(dir, "/") {
			dir = path.Join(workdirOrRoot(workdir), dir)
		}
		p := path.Join(dir, file)
		_, fi, err := f.Resolve(p)
		if err != nil {
			continue
		}
		if fi.Type == tar.TypeReg && fi.Mode&0o111 != 0 {
			return p, fi, nil
		}
		if first == nil {
			first, firstPath = &fi, p
		}
	}
	if first != nil {
		return firstPath, *first, nil
	}
	return "", File{}, fmt.Errorf("%s not found in PATH %s: %w", file, pathEnv, fs.ErrNotExist)
}

func workdirOrRoot(w string) string {
	if w == "" {
		return "/"
	}
	return w
}
