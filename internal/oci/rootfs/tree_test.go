package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// treeOf applies img's layers to a new Tree and returns the entries it
// left out, as Flatten's report lists them.
func treeOf(t testing.TB, img v1.Image) (*Tree, []Skipped) {
	t.Helper()
	tree := NewTree()
	var skipped []Skipped
	err := Walk(context.Background(), img, Limits{}, func(e Entry, _ io.Reader) error {
		if reason := tree.Apply(e, nil); reason != "" {
			skipped = append(skipped, Skipped{Layer: e.Layer, Name: e.RawName, Reason: reason})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree, skipped
}

// describeTree and describeDisk say, for every path below the root, what
// is there, in words both can give: "dir", "file 0644 3" (permissions and
// size), "symlink -> target". A hardlink is a file (its size is its
// target's, so it is left out).
func describeTree(tree *Tree) map[string]string {
	out := map[string]string{}
	tree.Walk("/", func(f File) {
		switch {
		case f.Path == "/":
		case f.Type == tar.TypeDir:
			out[f.Path] = "dir"
		case f.Type == tar.TypeSymlink:
			out[f.Path] = "symlink -> " + f.Link
		case f.Type == tar.TypeLink:
			out[f.Path] = fmt.Sprintf("file %04o", f.Mode&0o777)
		default:
			out[f.Path] = fmt.Sprintf("file %04o %d", f.Mode&0o777, f.Size)
		}
	})
	return out
}

func TestTree(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers [][]ent
		// want: path → what Lookup finds there ("" = absent), in
		// describeTree's words.
		want    map[string]string
		resolve map[string]string // path → where Resolve leads ("" = not found)
		wasted  int64
	}{
		{
			name: "whiteouts, opaque folders, overwrites, devices",
			layers: [][]ent{
				{dir("etc/"), file("etc/a", "a0"), file("etc/b", "b0"), file("keep", "k"), file("d/x", "x"), file("o/lower", "l"), file("gone/sub/f", "f")},
				{file("etc/a", "a1"), file("etc/.wh.b", ""), file("d", "file now"), file("o/.wh..wh..opq", ""), file("o/upper", "u"), file(".wh.gone", ""), {name: "dev/x", typ: tar.TypeChar}},
			},
			want: map[string]string{
				"/etc/a": "file 0644 2", "/etc/b": "", "/keep": "file 0644 1", "/d": "file 0644 8", "/d/x": "",
				"/o/upper": "file 0644 1", "/o/lower": "", "/gone": "", "/dev/x": "",
			},
			wasted: int64(len("a0") + len("b0") + len("x") + len("l") + len("f")),
		},
		{
			// issue 12 item 4: a lower symlinked folder and an upper
			// layer writing below it without listing the folder: the
			// file lands where the symlink leads, as Flatten puts it.
			name: "symlinked folder of a lower layer",
			layers: [][]ent{
				{dir("opt/"), dir("opt/app/"), dir("var/"), symlink("var/task", "/opt/app")},
				{dir("var/"), file("var/task/bootstrap", "elf")},
			},
			want:    map[string]string{"/var/task": "symlink -> /opt/app", "/opt/app/bootstrap": "file 0644 3", "/var/task/bootstrap": ""},
			resolve: map[string]string{"/var/task/bootstrap": "/opt/app/bootstrap", "var/task": "/opt/app"},
		},
		{
			name: "an upper folder replaces the symlink",
			layers: [][]ent{
				{dir("opt/"), dir("opt/app/"), dir("var/"), symlink("var/task", "/opt/app")},
				{dir("var/task/"), file("var/task/bootstrap", "elf")},
			},
			want: map[string]string{"/var/task": "dir", "/var/task/bootstrap": "file 0644 3", "/opt/app/bootstrap": ""},
		},
		{
			name: "symlinks resolve inside the tree",
			layers: [][]ent{{
				dir("usr/"), dir("usr/lib/"), file("usr/lib/libc.so", "libc"), symlink("lib", "usr/lib"),
				dir("escape/"), symlink("escape/up", "../../../../usr"), symlink("abs", "/usr/lib/libc.so"),
				symlink("loop1", "loop2"), symlink("loop2", "loop1"), hardlink("hard", "usr/lib/libc.so"),
			}},
			resolve: map[string]string{
				"/lib/libc.so": "/usr/lib/libc.so", "/abs": "/usr/lib/libc.so", "/escape/up/lib": "/usr/lib",
				"/../../lib/../lib/libc.so": "/usr/lib/libc.so", "/hard": "/hard", "/loop1": "", "/missing": "",
			},
			want: map[string]string{"/hard": "file 0644", "/lib": "symlink -> usr/lib"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree, _ := treeOf(t, imageOf(t, tc.layers...))
			got := describeTree(tree)
			for p, want := range tc.want {
				if _, ok := tree.Lookup(p); ok != (want != "") || got[p] != want {
					t.Errorf("Lookup(%s): %q, want %q", p, got[p], want)
				}
			}
			for p, want := range tc.resolve {
				f, err := tree.Resolve(p)
				switch {
				case want == "" && err == nil:
					t.Errorf("Resolve(%s) = %s, want an error", p, f.Path)
				case want != "" && (err != nil || f.Path != want):
					t.Errorf("Resolve(%s) = %s, %v; want %s", p, f.Path, err, want)
				}
			}
			if w, _ := tree.Wasted(); w != tc.wasted {
				t.Errorf("wasted %d bytes, want %d", w, tc.wasted)
			}
		})
	}
}

func TestTreeClone(t *testing.T) {
	tree, _ := treeOf(t, imageOf(t, []ent{file("a", "aa")}))
	base := tree.Clone()
	tree.Apply(EntryOf(&tar.Header{Name: ".wh.a", Typeflag: tar.TypeReg}, 1), nil)
	if _, ok := base.Lookup("/a"); !ok {
		t.Error("the clone changed with the tree")
	}
	if _, ok := tree.Lookup("/a"); ok {
		t.Error("the whiteout did not apply")
	}
	if w, _ := base.Wasted(); w != 0 {
		t.Errorf("clone wasted %d", w)
	}
	if _, err := tree.Resolve("/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Resolve of a deleted file: %v", err)
	}
}
