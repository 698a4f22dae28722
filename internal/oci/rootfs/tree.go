package rootfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"syscall"
)

// File is one path of an image's merged tree, as its layer's tar header
// described it.
type File struct {
	// Path is absolute and clean, with no symlink before its last
	// component: where the file is, not a name it is reached by.
	Path string
	// Type is tar.TypeReg, TypeDir, TypeSymlink or TypeLink (a hardlink;
	// a hardlink to a symlink is a symlink, as it is on disk).
	Type byte
	// Mode holds tar's mode bits: permissions, setuid, setgid, sticky.
	Mode     int64
	Uid, Gid int
	// Size is a regular file's size; 0 for anything else (a hardlink's
	// bytes are its target's, counted there).
	Size int64
	// Link is a symlink's target as stored, or the path (absolute, with
	// no symlink) of the file a hardlink shares its content with.
	Link string
	// Layer is the index of the layer that wrote the file; folders made
	// for entries whose layer did not list them have that entry's layer,
	// and the root has -1.
	Layer int
	// Head is the start of the content, when the caller of Apply passed
	// it (image.Check does, for the ELF header or #! line of executables).
	// A hardlink has its target's.
	Head []byte
}

type node struct {
	File
	children map[string]*node // a folder's entries by name; nil for others
}

func newFolder(p string, layer int) *node {
	return &node{File: File{Path: p, Type: tar.TypeDir, Mode: 0o755, Layer: layer}, children: map[string]*node{}}
}

// Tree is the merged file tree of an image: what a container sees once
// every layer is applied, metadata only. It is the one merged view of
// layers in fnopt: minimising (optimize/slim) and the compliance check
// (image.Check) read it, and it holds what Flatten writes to disk for the
// same layers, because Apply follows Flatten's rules entry by entry:
//
//   - entries apply in the order of their layer; a whiteout removes what is
//     there when it comes, an opaque folder keeps what its own layer wrote;
//   - symlinks on the way to an entry are followed inside the tree (an
//     absolute target starts again at the root, ".." stops there), as
//     openat2(RESOLVE_IN_ROOT) does for Flatten, and missing folders are
//     made; the entry's own name is never followed;
//   - an entry is skipped when Flatten skips it (unsafe name, a parent that
//     is a file, a dangling symlink or a loop on the way, a hardlink to
//     nothing or to a folder, a name too long for Linux).
//
// The tests flatten the same layers and compare the folder with the tree.
type Tree struct {
	root *node
	// layer is the layer being applied and created what it wrote so far,
	// by entry name (as Flatten keeps it, for opaque folders).
	layer   int
	created map[string]bool
	// wastedBytes and wastedFiles count the regular files that later
	// entries removed or replaced: stored in a layer, never seen.
	wastedBytes int64
	wastedFiles int
	// eff scores the layers as dive does (Efficiency).
	eff *efficiency
}

// NewTree returns an empty tree: a root folder, no layer applied.
func NewTree() *Tree {
	return &Tree{root: newFolder("/", -1), layer: -1, created: map[string]bool{}, eff: newEfficiency()}
}

// Limits of Linux that decide which names Flatten can create.
const (
	nameMax  = 255  // bytes of one path component (NAME_MAX)
	pathMax  = 4096 // bytes of a path given to a system call, NUL included (PATH_MAX)
	maxLinks = 40   // symlinks followed in one resolution (MAXSYMLINKS)
)

// Errors of resolving a path in the tree, worded as Flatten reports the
// kernel's (see describe).
var (
	errNotDir      = errors.New("a parent is not a directory")
	errLoop        = errors.New("symlink loop")
	errNameTooLong = syscall.ENAMETOOLONG
)

// Apply adds one entry (as Walk passes it) to the tree. Entries must come
// in order: bottom layer first, each layer's entries as stored. head, when
// not nil, is kept as the file's Head. Apply returns why the entry was left
// out, or "" when it was applied.
func (t *Tree) Apply(e Entry, head []byte) (skip string) {
	if e.Layer != t.layer {
		t.layer, t.created = e.Layer, map[string]bool{}
	}
	if e.Skip != "" {
		return e.Skip
	}
	if e.Path == "." {
		return "" // the root's own entry: Flatten keeps the root as it is
	}
	switch e.Whiteout {
	case WhiteoutFile:
		t.eff.record(e.Layer, e.Path, t.deletedBytes(e.Path), false)
		t.whiteout(e.Path)
		return ""
	case WhiteoutOpaque:
		t.eff.record(e.Layer, e.Path, t.deletedBytes(e.Path), false)
		t.opaque(e.Path)
		return ""
	}
	if skip = t.write(e, head); skip == "" {
		regular := e.Header.Typeflag == tar.TypeReg
		var size int64
		if regular {
			size = e.Header.Size
		}
		t.eff.record(e.Layer, e.Path, size, regular)
	}
	return skip
}

// write adds a file, folder, symlink or hardlink, replacing what is at its
// name unless both are folders (folders merge).
func (t *Tree) write(e Entry, head []byte) string {
	h := e.Header
	dirPath, dir, err := t.mkdirAll(path.Dir(e.Path), e.Layer)
	if err != nil {
		return fmt.Sprintf("cannot create parent of %s: %v", e.Path, err)
	}
	name := path.Base(e.Path)
	if len(name) > nameMax {
		return fmt.Sprintf("cannot inspect existing %s: %v", e.Path, errNameTooLong)
	}
	isDir := h.Typeflag == tar.TypeDir
	old := dir.children[name]
	if old != nil && !(isDir && old.Type == tar.TypeDir) {
		t.remove(dir, name)
		old = nil
	}
	f := File{Path: path.Join(dirPath, name), Type: h.Typeflag, Mode: h.Mode & 0o7777, Uid: h.Uid, Gid: h.Gid, Layer: e.Layer}
	n := &node{File: f}
	switch h.Typeflag {
	case tar.TypeDir:
		if old != nil {
			old.File = f // the folder merges with the one below
			n = old
		} else {
			n.children = map[string]*node{}
		}
	case tar.TypeReg: // (archive/tar reads TypeRegA as TypeReg)
		n.Type, n.Size, n.Head = tar.TypeReg, h.Size, head
	case tar.TypeSymlink:
		if len(h.Linkname) >= pathMax {
			return fmt.Sprintf("creating symlink %s: %v", e.Path, errNameTooLong)
		}
		n.Link = h.Linkname
	case tar.TypeLink:
		target, skip := t.linkTarget(h.Linkname)
		if skip != "" {
			return skip
		}
		// A hardlink is its target's inode: same mode, owner, content.
		n.Mode, n.Uid, n.Gid, n.Head = target.Mode, target.Uid, target.Gid, target.Head
		if target.Type == tar.TypeSymlink {
			n.Type, n.Link = tar.TypeSymlink, target.Link
		} else {
			n.Link = target.Path
		}
	default:
		return fmt.Sprintf("unsupported tar entry type %q", h.Typeflag)
	}
	dir.children[name] = n
	t.created[e.Path] = true
	return ""
}

// linkTarget finds a hardlink's target (a clean relative name) as Flatten
// does: its folder is resolved through symlinks, its own name is not; it
// must exist and not be a folder.
func (t *Tree) linkTarget(target string) (*node, string) {
	_, dir, err := t.resolve(path.Dir(target), true)
	if err == nil && dir.Type != tar.TypeDir {
		err = errNotDir
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = errors.New("no such file or directory")
		}
		return nil, fmt.Sprintf("hardlink target %s does not exist: %v", target, err)
	}
	name := path.Base(target)
	if len(name) > nameMax {
		return nil, fmt.Sprintf("hardlink target %s: %v", target, errNameTooLong)
	}
	n := dir.children[name]
	switch {
	case n == nil:
		return nil, fmt.Sprintf("hardlink target %s does not exist (yet)", target)
	case n.Type == tar.TypeDir:
		return nil, fmt.Sprintf("hardlink target %s is a directory", target)
	}
	return n, ""
}

// whiteout removes p, whatever it is; a missing folder on the way means
// there is nothing to remove.
func (t *Tree) whiteout(p string) {
	_, dir, err := t.resolve(path.Dir(p), true)
	if err != nil || dir.Type != tar.TypeDir {
		return
	}
	t.remove(dir, path.Base(p))
}

// opaque empties folder p of what lower layers put there, keeping what
// the current layer already wrote in it (the marker may come after).
func (t *Tree) opaque(p string) {
	n := t.root
	if p != "." {
		_, dir, err := t.resolve(path.Dir(p), true)
		if err != nil || dir.Type != tar.TypeDir {
			return
		}
		n = dir.children[path.Base(p)]
	}
	if n == nil || n.Type != tar.TypeDir {
		return // a symlink is not followed: the marker acts on folders only
	}
	for name := range n.children {
		if !t.created[path.Join(p, name)] {
			t.remove(n, name)
		}
	}
}

// remove deletes dir's entry name and counts the regular files it held as
// wasted.
func (t *Tree) remove(dir *node, name string) {
	n := dir.children[name]
	if n == nil {
		return
	}
	walkNode(n, func(f *File) {
		if f.Type == tar.TypeReg {
			t.wastedBytes += f.Size
			t.wastedFiles++
		}
	})
	delete(dir.children, name)
}

// mkdirAll returns folder dir (a clean relative path, "." for the root)
// and its path, making the folders that are missing on the way, as
// Flatten's mkdirAll does: a file, a dangling symlink or a loop on the way
// is an error.
func (t *Tree) mkdirAll(dir string, layer int) (string, *node, error) {
	p, n, err := t.resolve(dir, true)
	if err == nil && n.Type != tar.TypeDir {
		err = errNotDir
	}
	if err == nil || !errors.Is(err, fs.ErrNotExist) || dir == "." {
		return p, n, err
	}
	parentPath, parent, err := t.mkdirAll(path.Dir(dir), layer)
	if err != nil {
		return "", nil, err
	}
	name := path.Base(dir)
	if len(name) > nameMax {
		return "", nil, fmt.Errorf("creating directory %s: %w", dir, errNameTooLong)
	}
	if parent.children[name] == nil {
		parent.children[name] = newFolder(path.Join(parentPath, name), layer)
	}
	p, n, err = t.resolve(dir, true)
	if errors.Is(err, fs.ErrNotExist) {
		// Something is at name already, and it leads nowhere.
		return "", nil, fmt.Errorf("%s is a dangling symlink", dir)
	}
	if err == nil && n.Type != tar.TypeDir {
		err = errNotDir
	}
	return p, n, err
}

// resolve finds p (relative to the root or absolute) as the kernel does
// under openat2(RESOLVE_IN_ROOT): symlinks on the way are followed inside
// the tree, an absolute target starts again at the root, ".." never climbs
// above it. The last component's symlink is followed only when followLast.
// It returns the path reached, with no symlink in it, and its node.
func (t *Tree) resolve(p string, followLast bool) (string, *node, error) {
	if len(p) >= pathMax {
		return "", nil, errNameTooLong
	}
	// The folders from the root down to the current one (the root is
	// not in the list).
	var stack []*node
	cur := t.root
	todo := strings.Split(p, "/")
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == "" {
			continue // a leading, doubled or trailing slash
		}
		if cur.Type != tar.TypeDir {
			return "", nil, errNotDir // only a folder has entries, "." or ".." included
		}
		switch c {
		case ".":
			continue
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			cur = t.root
			if len(stack) > 0 {
				cur = stack[len(stack)-1]
			}
			continue
		}
		if len(c) > nameMax {
			return "", nil, errNameTooLong
		}
		next := cur.children[c]
		if next == nil {
			return "", nil, fmt.Errorf("%s: %w", path.Join(cur.Path, c), fs.ErrNotExist)
		}
		if next.Type == tar.TypeSymlink && (followLast || hasComponent(todo)) {
			if hops++; hops > maxLinks {
				return "", nil, errLoop
			}
			if strings.HasPrefix(next.Link, "/") {
				stack, cur = nil, t.root
			}
			todo = append(strings.Split(next.Link, "/"), todo...)
			continue
		}
		stack = append(stack, next)
		cur = next
	}
	return cur.Path, cur, nil
}

// hasComponent reports whether a rest of a path names anything.
func hasComponent(rest []string) bool {
	for _, c := range rest {
		if c != "" {
			return true
		}
	}
	return false
}

// Resolve follows p's symlinks inside the tree, the last one included, as
// a process in the image would, and returns the file reached (its Path is
// where it is). A missing path gives an error wrapping fs.ErrNotExist.
func (t *Tree) Resolve(p string) (File, error) {
	_, n, err := t.resolve(p, true)
	if err != nil {
		return File{}, fmt.Errorf("resolving %s: %w", p, err)
	}
	return n.File, nil
}

// Lookup returns the file at p (absolute or relative to the root), where
// no symlink is followed: p must be a path as File.Path gives it.
func (t *Tree) Lookup(p string) (File, bool) {
	n := t.lookup(p)
	if n == nil {
		return File{}, false
	}
	return n.File, true
}

func (t *Tree) lookup(p string) *node {
	n := t.root
	for _, c := range strings.Split(path.Clean("/"+p), "/") {
		if c == "" {
			continue
		}
		if n = n.children[c]; n == nil {
			return nil
		}
	}
	return n
}

// Walk calls fn for p and, when it is a folder, everything below it, a
// folder before its entries and entries by name. Nothing is called when p
// is not in the tree (no symlink is followed to find it).
func (t *Tree) Walk(p string, fn func(f File)) {
	if n := t.lookup(p); n != nil {
		walkNode(n, func(f *File) { fn(*f) })
	}
}

func walkNode(n *node, fn func(f *File)) {
	fn(&n.File)
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		walkNode(n.children[name], fn)
	}
}

// Wasted returns the bytes and the number of the regular files that
// entries applied so far removed or replaced: stored in the layers and
// downloaded, never seen.
func (t *Tree) Wasted() (bytes int64, files int) { return t.wastedBytes, t.wastedFiles }

// Clone returns a copy of the tree as it is now, to keep while more
// layers are applied to t.
func (t *Tree) Clone() *Tree {
	c := *t
	c.root = cloneNode(t.root)
	c.eff = t.eff.clone()
	c.created = make(map[string]bool, len(t.created))
	for k, v := range t.created {
		c.created[k] = v
	}
	return &c
}

func cloneNode(n *node) *node {
	c := &node{File: n.File}
	if n.children != nil {
		c.children = make(map[string]*node, len(n.children))
		for name, child := range n.children {
			c.children[name] = cloneNode(child)
		}
	}
	return c
}
