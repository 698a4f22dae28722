package rootfs

import (
	"archive/tar"
	"bytes"
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
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"

	"github.com/fnopt/fnopt/internal/testenv"
)

// sandboxDirs returns a root to extract into and, beside it, an "outside"
// folder holding a secret that no entry may touch.
func sandboxDirs(t *testing.T) (root, outside string) {
	base := t.TempDir()
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, outside
}

func TestFlatten(t *testing.T) {
	const outsideToken = "OUTSIDE" // replaced by the test's outside folder
	tests := []struct {
		name    string
		layers  [][]ent
		want    map[string]string // path → content ("" = must exist, "->x" = symlink to x)
		absent  []string
		skipped []string // substrings of the skip reasons, in order
	}{
		{
			name:   "files dirs symlinks hardlinks",
			layers: [][]ent{{dir("usr/"), dir("usr/bin/"), file("usr/bin/app", "app"), symlink("bin", "usr/bin"), hardlink("usr/bin/app2", "usr/bin/app"), file("./etc/conf", "c")}},
			want:   map[string]string{"usr/bin/app": "app", "usr/bin/app2": "app", "bin": "->usr/bin", "etc/conf": "c"},
		},
		{
			name:   "whiteout deletes lower file and directory",
			layers: [][]ent{{file("a/x", "x"), file("a/y", "y"), file("d/deep/f", "f")}, {file("a/.wh.x", ""), file(".wh.d", "")}},
			want:   map[string]string{"a/y": "y"},
			absent: []string{"a/x", "d"},
		},
		{
			name:   "opaque directory keeps same-layer entries",
			layers: [][]ent{{file("d/old", "o"), file("d/sub/old", "o")}, {file("d/new", "n"), file("d/.wh..wh..opq", ""), file("d/later", "l")}},
			want:   map[string]string{"d/new": "n", "d/later": "l"},
			absent: []string{"d/old", "d/sub"},
		},
		{
			name:   "overwrites change type",
			layers: [][]ent{{file("f", "one"), file("d/inner", "i"), file("s", "file")}, {file("f", "two"), file("d", "now a file"), symlink("s", "f")}, {dir("s/")}},
			want:   map[string]string{"f": "two", "d": "now a file", "s": ""},
		},
		{
			name:    "dot-dot names are rejected",
			layers:  [][]ent{{file("../escape", "x"), file("a/../../escape2", "x"), file("ok", "ok")}},
			want:    map[string]string{"ok": "ok"},
			skipped: []string{`".."`, `".."`},
		},
		{
			name:   "absolute names land inside",
			layers: [][]ent{{file("/abs/file", "abs"), file("//double", "d")}},
			want:   map[string]string{"abs/file": "abs", "double": "d"},
		},
		{
			name:    "absolute symlink parent resolves inside the root",
			layers:  [][]ent{{dir(outsideToken + "/"), symlink("esc", outsideToken), file("esc/secret", "pwned"), symlink("dang", outsideToken+"/none"), file("dang/f", "x")}},
			want:    map[string]string{"esc": "->" + outsideToken, outsideToken + "/secret": "pwned"},
			skipped: []string{"dangling symlink"},
		},
		{
			name:   "relative symlink climbing out is clamped",
			layers: [][]ent{{symlink("up", "../../../.."), file("up/pwned", "p")}},
			want:   map[string]string{"pwned": "p"},
		},
		{
			name:   "file replaces a symlink instead of writing through it",
			layers: [][]ent{{symlink("link", outsideToken+"/secret")}, {file("link", "mine")}},
			want:   map[string]string{"link": "mine"},
		},
		{
			name:    "hardlinks must point inside at extracted files",
			layers:  [][]ent{{symlink("esc", outsideToken), hardlink("h1", "esc/secret"), hardlink("h2", "../outside/secret"), hardlink("h3", "missing"), dir("d/"), hardlink("h4", "d")}},
			absent:  []string{"h1", "h2", "h3", "h4"},
			skipped: []string{"does not exist", "unsafe", "does not exist", "directory"},
		},
		{
			name:    "devices and fifos are skipped",
			layers:  [][]ent{{{name: "dev/null", typ: tar.TypeChar}, {name: "dev/sda", typ: tar.TypeBlock}, {name: "fifo", typ: tar.TypeFifo}, file("ok", "ok")}},
			want:    map[string]string{"ok": "ok"},
			absent:  []string{"dev/null", "dev/sda", "fifo"},
			skipped: []string{"device node", "device node", "fifo"},
		},
		{
			name:    "symlink loops are reported",
			layers:  [][]ent{{symlink("a", "b"), symlink("b", "a"), file("a/f", "x"), symlink("self", "self"), file("self/g", "x")}},
			skipped: []string{"symlink loop", "symlink loop"},
		},
		{
			name:   "whiteouts and opaque markers never act through symlinks",
			layers: [][]ent{{symlink("lnk", outsideToken)}, {file("lnk/.wh.secret", ""), file("lnk/.wh..wh..opq", "")}},
			want:   map[string]string{"lnk": "->" + outsideToken},
		},
		{
			name:    "names the file system refuses",
			layers:  [][]ent{{file(strings.Repeat("n", 300), "x"), file("d/"+strings.Repeat("m", 300)+"/f", "x"), file("ok", "ok")}},
			want:    map[string]string{"ok": "ok"},
			skipped: []string{"file name too long", "file name too long"},
		},
		{
			name:    "invalid whiteout and aufs metadata",
			layers:  [][]ent{{file("a/.wh...", ""), file(".wh..wh.plnk", ""), file("a/b", "b")}},
			want:    map[string]string{"a/b": "b"},
			skipped: []string{"invalid whiteout", "aufs"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root, outside := sandboxDirs(t)
			fix := func(s string) string { return strings.ReplaceAll(s, outsideToken, outside) }
			var layers [][]ent
			for _, l := range tc.layers {
				var fixed []ent
				for _, e := range l {
					e.name, e.link = fix(e.name), fix(e.link)
					fixed = append(fixed, e)
				}
				layers = append(layers, fixed)
			}
			img := imageOf(t, layers...)
			rep, err := Flatten(context.Background(), img, root, Limits{})
			if err != nil {
				t.Fatalf("Flatten: %v", err)
			}
			sameAsFlattened(t, img, root, rep)
			for p, want := range tc.want {
				p = filepath.Join(root, fix(p))
				want = fix(want)
				switch {
				case strings.HasPrefix(want, "->"):
					got, err := os.Readlink(p)
					if err != nil || got != want[2:] {
						t.Errorf("symlink %s = %q, %v; want %q", p, got, err, want[2:])
					}
				case want == "":
					if _, err := os.Lstat(p); err != nil {
						t.Errorf("%s missing: %v", p, err)
					}
				default:
					got, err := os.ReadFile(p)
					if err != nil || string(got) != want {
						t.Errorf("%s = %q, %v; want %q", p, got, err, want)
					}
				}
			}
			for _, p := range tc.absent {
				if _, err := os.Lstat(filepath.Join(root, p)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists, want absent (%v)", p, err)
				}
			}
			if len(rep.Skipped) != len(tc.skipped) {
				t.Fatalf("skipped %+v, want %d entries %q", rep.Skipped, len(tc.skipped), tc.skipped)
			}
			for i, s := range tc.skipped {
				if !strings.Contains(rep.Skipped[i].Reason, s) {
					t.Errorf("skip %d reason %q, want it to mention %q", i, rep.Skipped[i].Reason, s)
				}
			}
			assertOutsideUntouched(t, outside)
		})
	}
}

func assertOutsideUntouched(t *testing.T, outside string) {
	t.Helper()
	names, err := os.ReadDir(outside)
	if err != nil || len(names) != 1 || names[0].Name() != "secret" {
		t.Fatalf("outside folder changed: %v %v", names, err)
	}
	fi, err := os.Stat(filepath.Join(outside, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "host" || fi.Mode().Perm() != 0o644 {
		t.Fatalf("outside secret changed: %q %v", b, fi.Mode())
	}
	if st, ok := fi.Sys().(interface{ Nlink() uint64 }); ok && st.Nlink() != 1 {
		t.Fatalf("outside secret got a hardlink")
	}
}

func TestFlattenModes(t *testing.T) {
	root, _ := sandboxDirs(t)
	img := imageOf(t, []ent{
		{name: "ro/", typ: tar.TypeDir, mode: 0o555},
		{name: "ro/inner", typ: tar.TypeReg, body: "x", mode: 0o4755},
	})
	if _, err := Flatten(context.Background(), img, root, Limits{}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{"ro": os.ModeDir | 0o555, "ro/inner": 0o755} {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil || fi.Mode() != want {
			t.Errorf("%s mode %v, %v; want %v", p, fi.Mode(), err, want)
		}
	}
}

func TestFlattenOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("owners are only restored as root")
	}
	root, _ := sandboxDirs(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 993, Gid: 990},
		{Name: "d/f", Typeflag: tar.TypeReg, Mode: 0o600, Uid: 993, Gid: 990},
		{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "d/f", Uid: 5, Gid: 6},
	} {
		tw.WriteHeader(h)
	}
	tw.Close()
	img, err := mutate.AppendLayers(empty.Image, testenv.Layer(t, buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Flatten(context.Background(), img, root, Limits{}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string][2]uint32{"d": {993, 990}, "d/f": {993, 990}, "l": {5, 6}} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, p), &st); err != nil || st.Uid != want[0] || st.Gid != want[1] {
			t.Errorf("%s owned by %d:%d (%v), want %d:%d", p, st.Uid, st.Gid, err, want[0], want[1])
		}
	}
}

func TestFlattenErrors(t *testing.T) {
	big := strings.Repeat("z", 64<<10)
	many := make([]ent, 50)
	for i := range many {
		many[i] = file("f"+strings.Repeat("x", i), "")
	}
	good := tarBytes(t, []ent{file("a", big), file("b", "b")})
	tests := []struct {
		name   string
		layers []v1.Layer
		lim    Limits
		want   string
		limit  bool
	}{
		{"total bytes", []v1.Layer{testenv.Layer(t, tarBytes(t, []ent{file("a", big), file("b", big)}))}, Limits{MaxBytes: 100 << 10}, "MaxBytes", true},
		{"bytes over layers", []v1.Layer{testenv.Layer(t, good), testenv.Layer(t, good)}, Limits{MaxBytes: 100 << 10}, "MaxBytes", true},
		{"file count", []v1.Layer{testenv.Layer(t, tarBytes(t, many))}, Limits{MaxFiles: 10}, "MaxFiles", true},
		{"per-file size claimed by the header", []v1.Layer{testenv.Layer(t, tarBytes(t, []ent{{name: "bomb", typ: tar.TypeReg, size: 1 << 40}}))}, Limits{MaxFileBytes: 1 << 20}, "MaxFileBytes", true},
		{"truncated tar", []v1.Layer{testenv.Layer(t, good[:len(good)/2])}, Limits{}, "corrupt or truncated", false},
		{"corrupt compressed stream", []v1.Layer{brokenLayer{}}, Limits{}, "corrupt or truncated", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := mutate.AppendLayers(empty.Image, tc.layers...)
			if err != nil {
				t.Fatal(err)
			}
			root, _ := sandboxDirs(t)
			_, err = Flatten(context.Background(), img, root, tc.lim)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if errors.Is(err, ErrLimit) != tc.limit {
				t.Fatalf("errors.Is(err, ErrLimit) = %v, want %v", !tc.limit, tc.limit)
			}
		})
	}
}

// brokenLayer streams a valid tar header and then fails, as a gzip stream
// with a bad checksum or a dropped connection does.
type brokenLayer struct{}

func (brokenLayer) Digest() (v1.Hash, error) { return v1.NewHash("sha256:" + strings.Repeat("0", 64)) }
func (brokenLayer) DiffID() (v1.Hash, error) { return v1.NewHash("sha256:" + strings.Repeat("1", 64)) }
func (brokenLayer) Compressed() (io.ReadCloser, error) {
	return nil, errors.New("no compressed form")
}
func (brokenLayer) Size() (int64, error)                { return 0, nil }
func (brokenLayer) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }
func (brokenLayer) Uncompressed() (io.ReadCloser, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Size: 1 << 20, Mode: 0o644})
	return io.NopCloser(io.MultiReader(&buf, strings.NewReader("partial"), errReader{})), nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) {
	return 0, errors.New("flate: corrupt input before offset 12")
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

// FuzzFlatten extracts fuzzed layers, each line of the input one entry
// "TYPE NAME [TARGET]" (TYPE f file, d dir, s symlink, h hardlink; OUT in a
// name or target stands for a folder beside the root), and checks that
// nothing outside the root changed, whatever Flatten decided, and that the
// merged Tree of the same layers holds what Flatten wrote.
func FuzzFlatten(f *testing.F) {
	seeds := []string{
		"s esc OUT\nf esc/secret\n",
		"s up ../../..\nf up/pwned\n",
		"s link OUT/secret\n---\nf link\n",
		"s lnk OUT\n---\nf lnk/.wh.secret\nf lnk/.wh..wh..opq\n",
		"s esc OUT\nh h1 esc/secret\nh h2 ../outside/secret\n",
		"s a b\ns b a\nf a/f\n",
		"d d\nf d/x\n---\nf d/.wh..wh..opq\ns d/y OUT\nf d/y/z\n",
		"f /OUT/secret\nf ../outside/secret\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		root, outside := sandboxDirs(t)
		var layers [][]ent
		cur := []ent{}
		for _, line := range strings.Split(spec, "\n") {
			if line == "---" {
				layers, cur = append(layers, cur), []ent{}
				continue
			}
			fields := strings.Fields(strings.ReplaceAll(line, "OUT", outside))
			if len(fields) < 2 || len(cur) > 20 {
				continue
			}
			target := ""
			if len(fields) > 2 {
				target = fields[2]
			}
			switch fields[0] {
			case "f":
				cur = append(cur, file(fields[1], "fuzz"))
			case "d":
				cur = append(cur, dir(fields[1]))
			case "s":
				cur = append(cur, symlink(fields[1], target))
			case "h":
				cur = append(cur, hardlink(fields[1], target))
			}
		}
		layers = append(layers, cur)
		var ls []v1.Layer
		for _, l := range layers {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range l {
				h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o755, Size: int64(len(e.body))}
				if tw.WriteHeader(h) != nil {
					return // a name tar cannot even store
				}
				tw.Write([]byte(e.body))
			}
			tw.Close()
			ls = append(ls, testenv.Layer(t, buf.Bytes()))
		}
		img, err := mutate.AppendLayers(empty.Image, ls...)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Flatten(context.Background(), img, root, Limits{})
		assertOutsideUntouched(t, outside)
		if err == nil {
			sameAsFlattened(t, img, root, rep)
		}
	})
}
