package slim

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify/sandbox"
)

func TestMain(m *testing.M) {
	// The traced run and the proof re-execute the test binary as the
	// sandbox's init.
	sandbox.MaybeRunInit()
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// fixtureBins are the test function and its libraries, built once.
type fixtureBins struct {
	fn, greet, plugin string
}

var built struct {
	bins fixtureBins
	dir  string // removed when the tests end
	err  error
	done bool
}

func bins(t testing.TB) fixtureBins {
	t.Helper()
	if !built.done {
		built.done = true
		built.dir, built.err = os.MkdirTemp("", "fnopt-slim-bins-")
		if built.err == nil {
			built.bins, built.err = buildBins(built.dir)
		}
	}
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bins
}

func buildBins(dir string) (fixtureBins, error) {
	if _, err := exec.LookPath("gcc"); err != nil {
		return fixtureBins{}, fmt.Errorf("gcc not found: run `make setup` (Debian packages gcc, libc6-dev, zlib1g-dev)")
	}
	src, _ := filepath.Abs("testdata/fn")
	b := fixtureBins{fn: filepath.Join(dir, "fn"), greet: filepath.Join(dir, "libgreet.so"), plugin: filepath.Join(dir, "libplugin.so")}
	for _, args := range [][]string{
		{"-shared", "-fPIC", "-Wl,-soname,libgreet.so.1", "-o", b.greet, filepath.Join(src, "greet.c")},
		{"-shared", "-fPIC", "-o", b.plugin, filepath.Join(src, "plugin.c")},
		{"-O2", "-o", b.fn, filepath.Join(src, "main.c"), "-L" + dir, "-lgreet", "-lz", "-lm", "-ldl"},
	} {
		if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			return b, fmt.Errorf("gcc %v: %v\n%s", args, err, out)
		}
	}
	return b, nil
}

// entry is one tar entry of a test layer.
type entry struct {
	typ  byte
	mode int64
	link string
	data []byte
}

// layerFiles builds a layer: paths (relative) to entries.
type layerFiles map[string]entry

func (l layerFiles) file(p string, data []byte, mode int64) {
	l.dirs(path.Dir(p))
	l[p] = entry{typ: tar.TypeReg, mode: mode, data: data}
}

func (l layerFiles) dirs(p string) {
	for d := p; d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if _, ok := l[d]; !ok {
			l[d] = entry{typ: tar.TypeDir, mode: 0o755}
		}
	}
}

func (l layerFiles) symlink(p, target string) {
	l.dirs(path.Dir(p))
	l[p] = entry{typ: tar.TypeSymlink, mode: 0o777, link: target}
}

// mirror puts the host file p into the layer at the same path, with the
// host's symlinks met on the way (as the host has them: /lib -> usr/lib).
func (l layerFiles) mirror(t testing.TB, p string) {
	t.Helper()
	cur := "/"
	todo := strings.Split(strings.Trim(p, "/"), "/")
	for hops := 0; len(todo) > 0; {
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
		fi, err := os.Lstat(next)
		if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(next, "/")
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			if hops++; hops > 40 {
				t.Fatalf("%s: symlink loop", p)
			}
			target, err := os.Readlink(next)
			if err != nil {
				t.Fatal(err)
			}
			l.symlink(rel, target)
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			todo = append(strings.Split(strings.Trim(target, "/"), "/"), todo...)
			continue
		case fi.IsDir():
			l.dirs(rel)
		default:
			b, err := os.ReadFile(next)
			if err != nil {
				t.Fatal(err)
			}
			l.file(rel, b, int64(fi.Mode().Perm()))
		}
		cur = next
	}
}

// mirrorWithLibs mirrors a host program and everything ldd names for it.
func (l layerFiles) mirrorWithLibs(t testing.TB, prog string) {
	t.Helper()
	l.mirror(t, prog)
	out, err := exec.Command("ldd", prog).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", prog, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				l.mirror(t, f)
			}
		}
	}
}

// tarBytes writes the layer's tar, sorted, with the extra raw entries
// (whiteouts, hardlinks, hostile entries) after the rest.
func (l layerFiles) tarBytes(t testing.TB, extra ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := l[n]
		h := &tar.Header{Name: n, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Size: int64(len(e.data))}
		if e.typ == tar.TypeDir {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	for _, h := range extra {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func layerOf(t testing.TB, data []byte) v1.Layer {
	t.Helper()
	return testenv.Layer(t, data, tarball.WithMediaType(types.OCILayer))
}

// imageOf stacks layers and sets a Lambda-like configuration.
func imageOf(t testing.TB, entrypoint []string, layers ...v1.Layer) v1.Image {
	t.Helper()
	return testenv.HostImage(t, v1.Config{
		Entrypoint: entrypoint,
		WorkingDir: "/var/task",
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "APP_MODE=test"},
		Labels:     map[string]string{"org.example.team": "fnopt"},
	}, layers...)
}

// fixture is the test function's image:
//
//	layer 0 (a "distribution"): /bin/sh, the function's C libraries and an
//	  unused program (curl or strace) with theirs, all mirrored from this
//	  machine with their symlinks (/lib -> usr/lib), passwd, group, CA
//	  bundle, ld.so.conf, documentation, a big file and an old greeting;
//	layer 1 (the function): /var/task/run.sh (#!/bin/sh) running
//	  /var/task/fn, libgreet under /opt/greet/lib (named by an
//	  ld.so.conf.d file), the dlopened plugin, an unused plugin, the new
//	  greeting (overwrites), a whiteout of the big file, a hardlink.
func fixture(t testing.TB) (v1.Image, fixtureSizes) {
	t.Helper()
	return fixtureImage(t, "")
}

// fixtureImage is the fixture; with taskLink set, /var/task is instead a
// symlink to taskLink in layer 0, and layer 1 writes the function below
// /var/task without listing the folder itself (issue 12 item 4): the
// files land where the symlink leads.
func fixtureImage(t testing.TB, taskLink string) (v1.Image, fixtureSizes) {
	t.Helper()
	b := bins(t)
	base := layerFiles{}
	base.mirrorWithLibs(t, "/bin/sh")
	base.mirrorWithLibs(t, b.fn) // libgreet is not found on the host: ldd says "not found"
	for _, unused := range []string{"/usr/bin/curl", "/usr/bin/strace"} {
		if _, err := os.Stat(unused); err == nil {
			base.mirrorWithLibs(t, unused)
		}
	}
	delete(base, strings.TrimPrefix(b.fn, "/"))
	base.file("etc/passwd", []byte("root:x:0:0:root:/root:/bin/sh\nsbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin\n"), 0o644)
	base.file("etc/group", []byte("root:x:0:\nsbx:x:990:\n"), 0o644)
	base.file("etc/hosts", []byte("127.0.0.1 localhost\n"), 0o644)
	base.file("etc/ld.so.conf", []byte("include /etc/ld.so.conf.d/*.conf\n"), 0o644)
	base.file("etc/ld.so.conf.d/libc.conf", []byte("/usr/local/lib\n"), 0o644)
	if ca, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		base.file("etc/ssl/certs/ca-certificates.crt", ca, 0o644)
	}
	base.file("usr/share/doc/fnopt/README", bytes.Repeat([]byte("documentation nobody reads\n"), 2000), 0o644)
	big := bytes.Repeat([]byte{7}, 1<<20)
	base.file("usr/share/big.bin", big, 0o644)
	if taskLink == "" {
		base.file("var/task/data/greeting.txt", []byte("old world\n"), 0o644)
	} else {
		base.file(strings.TrimPrefix(taskLink, "/")+"/data/greeting.txt", []byte("old world\n"), 0o644)
		base.symlink("var/task", taskLink)
	}
	base.dirs("tmp")
	base["tmp"] = entry{typ: tar.TypeDir, mode: 0o1777}

	fnBytes, err := os.ReadFile(b.fn)
	if err != nil {
		t.Fatal(err)
	}
	app := layerFiles{}
	app.file("var/task/fn", fnBytes, 0o755)
	app.file("var/task/run.sh", []byte("#!/bin/sh\n# start the function\nexec /var/task/fn \"$@\"\n"), 0o755)
	greet, _ := os.ReadFile(b.greet)
	plugin, _ := os.ReadFile(b.plugin)
	app.file("opt/greet/lib/libgreet.so.1", greet, 0o755)
	app.file("etc/ld.so.conf.d/greet.conf", []byte("/opt/greet/lib\n"), 0o644)
	app.file("etc/ld.so.cache", ldCache(t, greet), 0o644)
	app.file("opt/plugins/libplugin.so", plugin, 0o755)
	app.file("opt/plugins/unused.so", plugin, 0o755)
	app.file("var/task/data/greeting.txt", []byte("world\n"), 0o644)
	app.dirs("usr/share")
	if taskLink != "" {
		delete(app, "var/task") // written through the lower layer's symlink
		delete(app, "var/task/data")
	}
	appTar := app.tarBytes(t,
		&tar.Header{Name: "usr/share/.wh.big.bin", Typeflag: tar.TypeReg, Mode: 0o644},
		&tar.Header{Name: "var/task/fn-copy", Typeflag: tar.TypeLink, Linkname: "var/task/fn", Mode: 0o755},
	)
	img := imageOf(t, []string{"/var/task/run.sh"}, layerOf(t, base.tarBytes(t)), layerOf(t, appTar))
	return img, fixtureSizes{wasted: int64(len(big)) + int64(len("old world\n"))}
}

// ldCache is the /etc/ld.so.cache ldconfig makes for the image: the
// loader only knows ld.so.conf's folders through it.
func ldCache(t testing.TB, greet []byte) []byte {
	t.Helper()
	root := t.TempDir()
	for p, b := range map[string][]byte{
		"etc/ld.so.conf":              []byte("include /etc/ld.so.conf.d/*.conf\n"),
		"etc/ld.so.conf.d/greet.conf": []byte("/opt/greet/lib\n"),
		"opt/greet/lib/libgreet.so.1": greet,
	} {
		os.MkdirAll(filepath.Join(root, path.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(root, p), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("/sbin/ldconfig", "-r", root).CombinedOutput(); err != nil {
		t.Fatalf("ldconfig: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(root, "etc/ld.so.cache"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type fixtureSizes struct {
	wasted int64
}

// writeOCI writes img to a fresh oci: layout and returns its reference.
func writeOCI(t testing.TB, img v1.Image) string {
	t.Helper()
	ref := "oci:" + filepath.Join(t.TempDir(), "layout")
	r, err := image.ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := image.Write(context.Background(), img, r, image.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return ref
}

// treeOf is the merged tree of img's layers.
func treeOf(t testing.TB, img v1.Image) *rootfs.Tree {
	t.Helper()
	tree := rootfs.NewTree()
	err := rootfs.Walk(context.Background(), img, rootfs.Limits{}, func(e rootfs.Entry, _ io.Reader) error {
		tree.Apply(e, nil)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
