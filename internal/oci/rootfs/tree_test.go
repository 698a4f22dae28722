package rootfs

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

func describeDisk(t testing.TB, root string, links map[string]bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		name := "/" + filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			out[name] = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[name] = "symlink -> " + target
		case links[name]:
			out[name] = fmt.Sprintf("file %04o", fi.Mode().Perm())
		default:
			out[name] = fmt.Sprintf("file %04o %d", fi.Mode().Perm(), fi.Size())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameAsFlattened checks that the merged Tree of img holds what Flatten
// wrote into root and leaves out the entries Flatten left out.
func sameAsFlattened(t *testing.T, img v1.Image, root string, rep *Report) {
	t.Helper()
	tree, skipped := treeOf(t, img)
	links := map[string]bool{}
	tree.Walk("/", func(f File) {
		if f.Type == tar.TypeLink {
			links[f.Path] = true
		}
	})
	want, got := describeDisk(t, root, links), describeTree(tree)
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: flattened %q, tree %q", p, w, got[p])
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: in the tree only (%s)", p, g)
		}
	}
	if len(rep.Skipped) < maxSkipped {
		name := func(s Skipped) string { return fmt.Sprintf("layer %d %s", s.Layer, s.Name) }
		var ws, gs []string
		for _, s := range rep.Skipped {
			ws = append(ws, name(s))
		}
		for _, s := range skipped {
			gs = append(gs, name(s))
		}
		if !slices.Equal(ws, gs) {
			t.Errorf("skipped: Flatten %q, tree %q", ws, gs)
		}
	}
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

// TestTreeMatchesFlatten flattens layers that stress the rules (symlinks
// on the way, loops, hardlinks, folders replaced and merged, long names)
// and compares the folder with the tree.
func TestTreeMatchesFlatten(t *testing.T) {
	long := strings.Repeat("n", 300)
	for _, tc := range []struct {
		name   string
		layers [][]ent
	}{
		{"symlinked folder", [][]ent{
			{dir("opt/"), dir("opt/app/"), dir("var/"), symlink("var/task", "/opt/app")},
			{file("var/task/bootstrap", "elf"), dir("var/task/sub/"), file("var/task/sub/f", "f")},
		}},
		{"chained and relative symlinks", [][]ent{
			{symlink("a", "b/c"), dir("b/"), symlink("b/c", "../d"), file("a/x", "1"), file("a/../y", "2"), symlink("e", "/a/")},
			{file("e/z", "3"), symlink("d/up", ".."), file("d/up/top", "4")},
		}},
		{"files on the way, dangling symlinks, loops", [][]ent{
			{file("f", "1"), file("f/x", "2"), symlink("dang", "nowhere"), file("dang/y", "3"), symlink("l1", "l2"), symlink("l2", "l1"), file("l1/z", "4")},
		}},
		{"hardlinks", [][]ent{
			{file("a", "aaa"), hardlink("b", "a"), symlink("s", "a"), hardlink("hs", "s"), dir("d/"), symlink("sd", "d"), file("d/t", "tt"), hardlink("h2", "sd/t"), hardlink("self", "self"), hardlink("hd", "d")},
			{file("a", "new"), hardlink("c", "b"), file(".wh.d", ""), hardlink("h3", "d/t")},
		}},
		{"folders replaced and merged", [][]ent{
			{dir("d/"), file("d/a", "a"), {name: "m/", typ: tar.TypeDir, mode: 0o700}, file("x", "x"), symlink("sl", "d")},
			{file("d", "now a file"), {name: "m/", typ: tar.TypeDir, mode: 0o750}, file("m/in", "i"), dir("x/"), dir("sl/"), file("sl/f", "f")},
			{dir("d/"), file("d/b", "b"), file("m/.wh..wh..opq", ""), file("x/.wh..wh..opq", ""), file("x/later", "l")},
		}},
		{"whiteouts through symlinks", [][]ent{
			{dir("real/"), file("real/a", "a"), file("real/b", "b"), symlink("via", "real")},
			{file("via/.wh.a", ""), file("via/.wh..wh..opq", ""), file("real/c", "c")},
		}},
		{"long names", [][]ent{
			{file(long, "x"), file("d/"+long+"/f", "x"), symlink("s", strings.Repeat("t/", 2100)), file("ok", "ok")},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, outside := sandboxDirs(t)
			img := imageOf(t, tc.layers...)
			rep, err := Flatten(context.Background(), img, root, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sameAsFlattened(t, img, root, rep)
			assertOutsideUntouched(t, outside)
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
