package slim

import (
	"archive/tar"
	"context"
	"testing"

	"github.com/fnopt/fnopt/internal/oci/rootfs"
)

// TestWastedBytes: bytes of files that later layers overwrite or delete,
// counted once, whatever hides them.
func TestWastedBytes(t *testing.T) {
	reg := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size}
	}
	dir := func(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755} }
	base := []*tar.Header{dir("a/"), reg("a/f", 100), reg("a/g", 10), dir("d/"), dir("d/sub/"), reg("d/sub/x", 1000), reg("d/y", 7), dir("o/"), reg("o/old", 50), reg("r", 3), reg("keep", 5)}
	for _, tc := range []struct {
		name   string
		upper  []*tar.Header
		wasted int64
		files  int
	}{
		{"nothing hidden", []*tar.Header{reg("new", 1)}, 0, 8},
		{"overwrite", []*tar.Header{reg("a/f", 1)}, 100, 7},
		{"whiteout of a file", []*tar.Header{reg("a/.wh.g", 0)}, 10, 6},
		{"whiteout of a folder", []*tar.Header{reg(".wh.d", 0)}, 1007, 5},
		{"opaque folder", []*tar.Header{dir("o/"), reg("o/.wh..wh..opq", 0), reg("o/new", 2)}, 50, 7},
		{"folder replaced by a file", []*tar.Header{reg("d", 4)}, 1007, 6},
		{"file replaced by a folder", []*tar.Header{dir("r/"), reg("r/in", 9)}, 3, 7},
		{"hardlink over a file", []*tar.Header{{Name: "a/f", Typeflag: tar.TypeLink, Linkname: "keep"}}, 100, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := imageOf(t, []string{"/x"}, layerOf(t, layerFiles{}.tarBytes(t, base...)), layerOf(t, layerFiles{}.tarBytes(t, tc.upper...)))
			inv, err := scanLayers(context.Background(), img, rootfs.Limits{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			files, _ := fileStats(inv.tree)
			wasted, _ := inv.tree.Wasted()
			if wasted != tc.wasted || files != tc.files {
				t.Errorf("wasted %d, files %d; want %d, %d", wasted, files, tc.wasted, tc.files)
			}
		})
	}
}
