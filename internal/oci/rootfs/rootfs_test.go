package rootfs

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"
)

// ent is one hand-written tar entry.
type ent struct {
	name string
	typ  byte
	body string
	link string
	mode int64
	size int64 // when set, the header claims this size instead of len(body)
}

func file(name, body string) ent { return ent{name: name, typ: tar.TypeReg, body: body, mode: 0o644} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func hardlink(name, target string) ent { return ent{name: name, typ: tar.TypeLink, link: target} }

func tarBytes(t testing.TB, ents []ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		size := int64(len(e.body))
		if e.size != 0 {
			size = e.size
		}
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Size: size, Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("writing header %s: %v", e.name, err)
		}
		if e.typ == tar.TypeReg && e.size == 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil && !strings.Contains(err.Error(), "missed writing") {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layerOf(t testing.TB, b []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatalf("making layer: %v", err)
	}
	return l
}

func imageOf(t testing.TB, layers ...[]ent) v1.Image {
	t.Helper()
	var ls []v1.Layer
	for _, ents := range layers {
		ls = append(ls, layerOf(t, tarBytes(t, ents)))
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

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
	img, err := mutate.AppendLayers(empty.Image, layerOf(t, buf.Bytes()))
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
		{"total bytes", []v1.Layer{layerOf(t, tarBytes(t, []ent{file("a", big), file("b", big)}))}, Limits{MaxBytes: 100 << 10}, "MaxBytes", true},
		{"bytes over layers", []v1.Layer{layerOf(t, good), layerOf(t, good)}, Limits{MaxBytes: 100 << 10}, "MaxBytes", true},
		{"file count", []v1.Layer{layerOf(t, tarBytes(t, many))}, Limits{MaxFiles: 10}, "MaxFiles", true},
		{"per-file size claimed by the header", []v1.Layer{layerOf(t, tarBytes(t, []ent{{name: "bomb", typ: tar.TypeReg, size: 1 << 40}}))}, Limits{MaxFileBytes: 1 << 20}, "MaxFileBytes", true},
		{"truncated tar", []v1.Layer{layerOf(t, good[:len(good)/2])}, Limits{}, "corrupt or truncated", false},
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
