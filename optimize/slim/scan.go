package slim

import (
	"archive/tar"
	"context"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/oci/rootfs"
)

// inventory is what one streamed pass over every layer finds: the merged
// tree (rootfs.Tree, the view Flatten writes to disk, with what later
// layers hid counted as wasted) and, when base layers are kept, the tree
// of those layers alone.
type inventory struct {
	tree *rootfs.Tree
	// base is the merged tree of the layers below keepBase (nil without).
	base *rootfs.Tree
}

// Skipped is a layer entry left out because it is unsafe or not allowed.
type Skipped = rootfs.Skipped

// maxSkipped bounds how many skipped entries are kept for the report.
const maxSkipped = 100

// scanLayers walks every entry of every layer (streamed, bottom first)
// and builds the merged tree. keepBase > 0 also records the tree of the
// first keepBase layers.
func scanLayers(ctx context.Context, img v1.Image, lim rootfs.Limits, keepBase int) (*inventory, error) {
	inv := &inventory{tree: rootfs.NewTree()}
	err := rootfs.Walk(ctx, img, lim, func(e rootfs.Entry, _ io.Reader) error {
		if keepBase > 0 && inv.base == nil && e.Layer >= keepBase {
			inv.base = inv.tree.Clone()
		}
		// Entries Flatten leaves out are reported from its own report.
		_ = inv.tree.Apply(e, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if keepBase > 0 && inv.base == nil {
		inv.base = inv.tree.Clone() // the layers above the base hold no entry
	}
	return inv, nil
}

// fileStats counts the regular files (and hardlinks to them) of a tree
// and their bytes (a hardlink's are its target's, counted once).
func fileStats(tree *rootfs.Tree) (files int, bytes int64) {
	tree.Walk("/", func(f rootfs.File) {
		if f.Type == tar.TypeReg || f.Type == tar.TypeLink {
			files++
			bytes += f.Size
		}
	})
	return files, bytes
}
