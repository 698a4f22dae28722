package slim

import (
	"archive/tar"
	"context"
	"io"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/oci/rootfs"
)

// meta is one path of an image's merged file tree: what its tar header
// said (contents stay in the layer, or in the flattened folder).
type meta struct {
	typ   byte // tar.TypeReg, TypeDir, TypeSymlink, TypeLink
	mode  int64
	uid   int
	gid   int
	size  int64
	link  string // symlink target as stored; hardlink target as an absolute path
	layer int
}

type node struct {
	meta
	children map[string]*node
}

// inventory is what one streamed pass over every layer finds: the merged
// tree, what later layers overwrote or deleted, the unsafe entries.
type inventory struct {
	root   *node
	layers int
	// base is the merged tree of the layers below keepBase (nil without),
	// and baseWasted what those layers already hide of each other.
	base            *node
	baseWasted      int64
	baseWastedFiles int
	// wasted counts the bytes of regular files that a later layer
	// overwrote or deleted (dive's "wasted space": they are downloaded
	// and stored, never seen).
	wasted      int64
	wastedFiles int
	skipped     []Skipped
	skipCount   int
}

// Skipped is a layer entry left out because it is unsafe or not allowed.
type Skipped struct {
	Layer  int    `json:"layer"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// maxSkipped bounds how many skipped entries are kept for the report.
const maxSkipped = 100

func newDir(layer int) *node {
	return &node{meta: meta{typ: tar.TypeDir, mode: 0o755, layer: layer}, children: map[string]*node{}}
}

// scanLayers walks every entry of every layer (streamed, bottom first)
// and builds the merged tree. keepBase > 0 also records the tree of the
// first keepBase layers.
func scanLayers(ctx context.Context, img v1.Image, lim rootfs.Limits, keepBase int) (*inventory, error) {
	inv := &inventory{root: newDir(-1)}
	var pending []rootfs.Entry
	cur := 0
	flush := func(next int) {
		inv.apply(pending)
		pending = pending[:0]
		for l := cur; l < next; l++ {
			if l+1 == keepBase {
				inv.base = clone(inv.root)
				inv.baseWasted, inv.baseWastedFiles = inv.wasted, inv.wastedFiles
			}
		}
		cur = next
	}
	err := rootfs.Walk(ctx, img, lim, func(e rootfs.Entry, r io.Reader) error {
		if e.Layer != cur {
			flush(e.Layer)
		}
		if e.Skip != "" {
			inv.skipCount++
			if len(inv.skipped) < maxSkipped {
				inv.skipped = append(inv.skipped, Skipped{Layer: e.Layer, Name: e.RawName, Reason: e.Skip})
			}
			return nil
		}
		h := *e.Header
		e.Header = &h
		pending = append(pending, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	inv.layers = len(layers)
	flush(len(layers))
	return inv, nil
}

func clone(n *node) *node {
	c := &node{meta: n.meta}
	if n.children != nil {
		c.children = make(map[string]*node, len(n.children))
		for k, v := range n.children {
			c.children[k] = clone(v)
		}
	}
	return c
}

func abs(rel string) string { return path.Clean("/" + rel) }

// apply applies one layer: its whiteouts remove what lower layers hold,
// then its entries are added (the rules rootfs and overlayfs follow).
func (inv *inventory) apply(entries []rootfs.Entry) {
	for _, e := range entries {
		switch e.Whiteout {
		case rootfs.WhiteoutFile:
			inv.remove(abs(e.Path))
		case rootfs.WhiteoutOpaque:
			if n := inv.lookup(abs(e.Path)); n != nil && n.children != nil {
				for _, c := range n.children {
					inv.waste(c)
				}
				n.children = map[string]*node{}
			}
		}
	}
	for _, e := range entries {
		if e.Whiteout != rootfs.NoWhiteout {
			continue
		}
		h := e.Header
		m := meta{typ: h.Typeflag, mode: h.Mode & 0o7777, uid: h.Uid, gid: h.Gid, size: h.Size, link: h.Linkname, layer: e.Layer}
		switch m.typ {
		case tar.TypeRegA:
			m.typ = tar.TypeReg
		case tar.TypeLink:
			m.link, m.size = abs(h.Linkname), 0
		}
		inv.add(abs(e.Path), m)
	}
}

// waste counts a removed subtree's file bytes.
func (inv *inventory) waste(n *node) {
	if n.typ == tar.TypeReg {
		inv.wasted += n.size
		inv.wastedFiles++
	}
	for _, c := range n.children {
		inv.waste(c)
	}
}

func (inv *inventory) lookup(p string) *node {
	n := inv.root
	if p == "/" {
		return n
	}
	for _, c := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if n.children == nil {
			return nil
		}
		if n = n.children[c]; n == nil {
			return nil
		}
	}
	return n
}

func (inv *inventory) remove(p string) {
	if p == "/" {
		return
	}
	dir := inv.lookup(path.Dir(p))
	if dir == nil || dir.children == nil {
		return
	}
	if old := dir.children[path.Base(p)]; old != nil {
		inv.waste(old)
		delete(dir.children, path.Base(p))
	}
}

func (inv *inventory) add(p string, m meta) {
	if p == "/" {
		if m.typ == tar.TypeDir {
			inv.root.meta = m
		}
		return
	}
	dir := inv.root
	for _, c := range strings.Split(strings.TrimPrefix(path.Dir(p), "/"), "/") {
		if c == "" {
			continue
		}
		next := dir.children[c]
		if next == nil || next.typ != tar.TypeDir {
			if next != nil {
				inv.waste(next)
			}
			next = newDir(m.layer)
			dir.children[c] = next
		}
		dir = next
	}
	name := path.Base(p)
	old := dir.children[name]
	if m.typ == tar.TypeDir && old != nil && old.typ == tar.TypeDir {
		old.meta = m
		return
	}
	if old != nil {
		inv.waste(old)
	}
	n := &node{meta: m}
	if m.typ == tar.TypeDir {
		n.children = map[string]*node{}
	}
	dir.children[name] = n
}

// walk calls fn for every path of the tree under n (n's own path is p),
// in sorted order.
func walk(n *node, p string, fn func(p string, n *node)) {
	fn(p, n)
	names := make([]string, 0, len(n.children))
	for k := range n.children {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		walk(n.children[k], path.Join(p, k), fn)
	}
}

// fileStats counts the regular files (and hardlinks to them) of a tree
// and their bytes (a hardlink's are its target's, counted once).
func fileStats(root *node) (files int, bytes int64) {
	walk(root, "/", func(_ string, n *node) {
		if n.typ == tar.TypeReg || n.typ == tar.TypeLink {
			files++
			bytes += n.size
		}
	})
	return files, bytes
}
