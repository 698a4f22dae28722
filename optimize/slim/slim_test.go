package slim

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/internal/registrytest"
	"github.com/fnopt/fnopt/internal/testenv"
)

func keptPaths(res *Result) map[string][]string {
	m := map[string][]string{}
	for _, k := range res.Kept {
		m[k.Path] = k.Reasons
	}
	return m
}

// TestMinimizeFromRegistry pushes the fixture to Debian's docker-registry,
// minimises what it pulls back, and proves the result answers like the
// original.
func TestMinimizeFromRegistry(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "strace", "strace")
	img, sizes := fixture(t)
	host := registrytest.Start(t)
	src := host + "/fn/fixture:v1"
	ref, err := name.ParseReference(src, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := image.ParseRef(src)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := image.Load(ctx, r, image.LoadOptions{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Event: []byte(`{"n":1}`), Keep: []string{"/var/task/fn-copy"}}
	res, err := Minimize(ctx, pulled, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()

	// The sizes counted while streaming agree with image.SizesOf's own pass.
	for _, c := range []struct {
		img   v1.Image
		got   Stats
		label string
	}{{pulled, res.Before, "original"}, {res.Image, res.After, "minimised"}} {
		want, err := image.SizesOf(c.img)
		if err != nil {
			t.Fatal(err)
		}
		if c.got.Compressed != want.Compressed || c.got.Uncompressed != want.Uncompressed {
			t.Errorf("%s sizes %+v, image.SizesOf says %+v", c.label, c.got, want)
		}
	}

	kept := keptPaths(res)
	for _, p := range []string{
		"/var/task/run.sh", "/var/task/fn", "/opt/greet/lib/libgreet.so.1", "/opt/plugins/libplugin.so",
		"/var/task/data/greeting.txt", "/etc/passwd", "/etc/group", "/etc/ld.so.conf.d/greet.conf", "/etc/hosts",
	} {
		if _, ok := kept[p]; !ok {
			t.Errorf("%s not kept", p)
		}
	}
	for _, p := range []string{"/usr/bin/curl", "/usr/bin/strace", "/usr/share/doc/fnopt/README", "/opt/plugins/unused.so", "/usr/share/big.bin"} {
		if r, ok := kept[p]; ok {
			t.Errorf("%s kept: %v", p, r)
		}
	}
	if r := strings.Join(kept["/opt/plugins/libplugin.so"], ";"); !strings.Contains(r, "traced run") {
		t.Errorf("the plugin should be found by the trace only, reasons: %s", r)
	}
	if r := strings.Join(kept["/opt/greet/lib/libgreet.so.1"], ";"); !strings.Contains(r, "needed by") {
		t.Errorf("libgreet should be found by the ELF closure, reasons: %s", r)
	}
	if res.Before.WastedBytes != sizes.wasted {
		t.Errorf("wasted bytes %d, want %d (the deleted big file and the overwritten greeting)", res.Before.WastedBytes, sizes.wasted)
	}
	if res.After.Layers != 1 || res.Before.Layers != 2 || res.After.Compressed >= res.Before.Compressed/2 {
		t.Errorf("before %+v after %+v", res.Before, res.After)
	}
	var resp map[string]any
	if err := json.Unmarshal(res.Traced.Response, &resp); err != nil || resp["greeting"] != "hello world" || resp["answer"] != 42.0 {
		t.Errorf("traced response %s (%v)", res.Traced.Response, err)
	}

	files := treeOf(t, res.Image)
	if f, ok := files.Lookup("/var/task/fn-copy"); !ok || f.Type != tar.TypeLink || f.Link != "/var/task/fn" {
		t.Errorf("the kept hardlink is %+v (%v), want a hardlink to /var/task/fn", f, ok)
	}
	cf, err := res.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.Labels["org.example.team"] != "fnopt" || cf.Config.WorkingDir != "/var/task" || cf.Config.Entrypoint[0] != "/var/task/run.sh" {
		t.Errorf("config not kept: %+v", cf.Config)
	}

	// Reproducible: the same input gives the same digest.
	again, err := Minimize(ctx, pulled, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	d1, _ := res.Image.Digest()
	d2, _ := again.Image.Digest()
	if d1 != d2 {
		t.Errorf("two minimisations differ: %s %s", d1, d2)
	}

	proof, err := Prove(ctx, src, res.Image, res.Traced.Response, ProofOptions{Samples: 2, Event: []byte(`{"n":1}`), Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if !proof.OK() {
		t.Fatalf("proof failed: %v / %v (missing %s)", proof.Original.Failure, proof.Minimised.Failure, proof.MissingFile)
	}
	if len(proof.Original.Samples) != 2 || len(proof.Minimised.Samples) != 2 {
		t.Errorf("samples: %d %d", len(proof.Original.Samples), len(proof.Minimised.Samples))
	}
}

// TestKeepBase keeps the bottom layer as it is and minimises the one
// above: the base blob is shared, the whiteout and the overwrite of the
// app layer still apply, and the result answers like the original.
func TestKeepBase(t *testing.T) {
	testenv.RequireRoot(t)
	img, _ := fixture(t)
	src := writeOCI(t, img)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Minimize(ctx, img, Options{KeepBase: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	origLayers, _ := img.Layers()
	newLayers, err := res.Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(newLayers) != 2 {
		t.Fatalf("%d layers, want the base and one more", len(newLayers))
	}
	d0, _ := origLayers[0].Digest()
	n0, _ := newLayers[0].Digest()
	if d0 != n0 {
		t.Errorf("base layer changed: %s -> %s", d0, n0)
	}
	files := treeOf(t, res.Image)
	if _, ok := files.Lookup("/usr/share/big.bin"); ok {
		t.Error("the file the app layer deleted is back")
	}
	if _, ok := files.Lookup("/opt/plugins/unused.so"); ok {
		t.Error("the unused plugin of the app layer is kept")
	}
	if _, ok := files.Lookup("/usr/share/doc/fnopt/README"); !ok {
		t.Error("base content is gone: the base must stay untouched")
	}
	if f, ok := files.Lookup("/var/task/data/greeting.txt"); !ok || f.Layer != 1 {
		t.Errorf("greeting: %+v %v, want the app layer's version", f, ok)
	}
	proof, err := Prove(ctx, src, res.Image, res.Traced.Response, ProofOptions{Samples: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !proof.OK() {
		t.Fatalf("proof failed: %v", proof.Minimised.Failure)
	}
	if _, err := Minimize(ctx, img, Options{KeepBase: 2}); err == nil || !strings.Contains(err.Error(), "has 2 layers") {
		t.Errorf("--keep-base 2 of 2 layers: %v", err)
	}
}

// TestTaskFolderSymlink: /var/task is a symlink in a lower layer and the
// function's layer writes below it (issue 12 item 4). Minimising sees the
// files where the flattened image has them and keeps the symlink, and the
// result answers like the original and is written.
func TestTaskFolderSymlink(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "strace", "strace")
	img, _ := fixtureImage(t, "/opt/app")
	src, err := image.ParseRef(writeOCI(t, img))
	if err != nil {
		t.Fatal(err)
	}
	dst := image.Ref{Kind: image.OCI, Path: filepath.Join(t.TempDir(), "slim")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := MinimizeAndProve(ctx, src, dst, MinimizeAndProveOptions{Options: Options{Keep: []string{"/var/task/fn-copy"}}, Samples: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Written {
		t.Fatalf("not written: %v (missing %s)", out.Proof.Minimised.Failure, out.Proof.MissingFile)
	}
	kept := map[string]bool{}
	for _, k := range out.Kept {
		kept[k.Path] = true
	}
	for _, p := range []string{"/var/task", "/opt/app/run.sh", "/opt/app/fn", "/opt/app/fn-copy", "/opt/app/data/greeting.txt"} {
		if !kept[p] {
			t.Errorf("%s not kept", p)
		}
	}
	written, err := image.Load(ctx, dst, image.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := treeOf(t, written).Lookup("/var/task"); !ok || f.Type != tar.TypeSymlink || f.Link != "/opt/app" {
		t.Errorf("/var/task in the minimised image: %+v (%v), want the symlink to /opt/app", f, ok)
	}
}

// TestExcludedFileIsNamed drops a file the function needs: the proof
// fails and names it.
func TestExcludedFileIsNamed(t *testing.T) {
	testenv.RequireRoot(t)
	img, _ := fixture(t)
	src := writeOCI(t, img)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, tc := range []struct{ exclude, missing string }{
		{"/opt/plugins/libplugin.so", "/opt/plugins/libplugin.so"},
		{"/var/task/data", "/var/task/data/greeting.txt"},
	} {
		res, err := Minimize(ctx, img, Options{Exclude: []string{tc.exclude}})
		if err != nil {
			t.Fatal(err)
		}
		proof, err := Prove(ctx, src, res.Image, res.Traced.Response, ProofOptions{Samples: 1})
		res.Close()
		if err != nil {
			t.Fatal(err)
		}
		if proof.OK() {
			t.Errorf("--exclude %s: proof passed", tc.exclude)
			continue
		}
		if proof.MissingFile != tc.missing {
			t.Errorf("--exclude %s: missing file %q (%s), want %s", tc.exclude, proof.MissingFile, proof.MissingHow, tc.missing)
		}
	}
}

// TestHostileLayers adds a layer of unsafe entries to the fixture: each is
// refused or neutralised (and reported), nothing lands outside the
// working folder, and the function still minimises and checks.
func TestHostileLayers(t *testing.T) {
	testenv.RequireRoot(t)
	img, _ := fixture(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	outside := filepath.Join(tmp, "outside-"+strconv.Itoa(os.Getpid()))
	hostile := layerFiles{}.tarBytes(t,
		&tar.Header{Name: "../../../../" + outside, Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		&tar.Header{Name: "/abs/file", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		&tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: filepath.Dir(outside)},
		&tar.Header{Name: "esc/" + filepath.Base(outside) + "-via-symlink", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		&tar.Header{Name: "hl", Typeflag: tar.TypeLink, Linkname: "../../etc/shadow"},
		&tar.Header{Name: "loop1", Typeflag: tar.TypeSymlink, Linkname: "loop2"},
		&tar.Header{Name: "loop2", Typeflag: tar.TypeSymlink, Linkname: "loop1"},
		&tar.Header{Name: "loop1/x", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3},
		&tar.Header{Name: "dev/evil", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 1},
		&tar.Header{Name: "pipe", Typeflag: tar.TypeFifo, Mode: 0o666},
		&tar.Header{Name: "setuid", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 3},
	)
	layers, _ := img.Layers()
	bad := imageOf(t, []string{"/var/task/run.sh"}, append(layers, layerOf(t, hostile))...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Minimize(ctx, bad, Options{Keep: []string{"/abs"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	reasons := map[string]string{}
	for _, s := range res.Skipped {
		reasons[s.Name] = s.Reason
	}
	for name, want := range map[string]string{
		"../../../../" + outside: `".."`,
		"hl":                     "hardlink",
		"dev/evil":               "device node",
		"pipe":                   "fifo",
		"loop1/x":                "loop",
	} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("%s: reason %q, want it to mention %s (all: %v)", name, reasons[name], want, reasons)
		}
	}
	for _, p := range []string{outside, outside + "-via-symlink"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s written outside the image root", p)
		}
	}
	files := treeOf(t, res.Image)
	if _, ok := files.Lookup("/abs/file"); !ok {
		t.Error("/abs/file (absolute name, neutralised) not kept by --keep /abs")
	}
	if _, ok := files.Lookup("/dev/evil"); ok {
		t.Error("device node kept")
	}
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}

	// A truncated layer and a decompression bomb end with a clear error
	// and leave no working folder behind.
	full := layerFiles{}.tarBytes(t, &tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4 << 20})
	for _, tc := range []struct {
		name  string
		layer []byte
		lim   rootfs.Limits
		want  string
	}{
		{"truncated", full[:len(full)/2], rootfs.Limits{}, "truncated"},
		{"bomb", full, rootfs.Limits{MaxBytes: 1 << 20}, "extraction limits"},
	} {
		img := imageOf(t, []string{"/var/task/run.sh"}, append(layers, layerOf(t, tc.layer))...)
		_, err := Minimize(ctx, img, Options{Limits: tc.lim})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s layer: %v, want an error about %s", tc.name, err, tc.want)
		}
		if left, _ := filepath.Glob(filepath.Join(tmp, "fnopt-slim-*")); len(left) > 0 {
			t.Errorf("%s layer: working folders left: %v", tc.name, left)
		}
	}
}

// TestKeepBaseShowsTheSameTree: with --keep-base, whatever the upper
// layers did to the base (overwrite, delete, opaque folder, a folder
// replaced by a symlink), the minimised image shows the kept paths
// exactly as the original does.
func TestKeepBaseShowsTheSameTree(t *testing.T) {
	base := layerFiles{}
	base.mirrorWithLibs(t, "/bin/sh")
	for _, p := range []string{"data/dir1/a", "data/link/b", "data/gone/x", "data/opq/keep", "data/opq/old"} {
		base.file(p, []byte("base "+p), 0o644)
	}
	upper := layerFiles{}
	upper.file("data/dir1/a", []byte("upper version of a"), 0o644)
	upper.symlink("data/link", "dir1")
	upper.file("data/opq/new", []byte("new"), 0o644)
	upper.dirs("data/opq")
	upperTar := upper.tarBytes(t,
		&tar.Header{Name: "data/.wh.gone", Typeflag: tar.TypeReg, Mode: 0o644},
		&tar.Header{Name: "data/opq/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o644},
	)
	// The base is two layers, the second hiding 100 bytes of the first.
	base.file("data/w", bytes.Repeat([]byte{1}, 100), 0o644)
	base2 := layerFiles{}
	base2.file("data/w", []byte{2}, 0o644)
	img := imageOf(t, []string{"/bin/sh"}, layerOf(t, base.tarBytes(t)), layerOf(t, base2.tarBytes(t)), layerOf(t, upperTar))
	res, err := Minimize(context.Background(), img, Options{NoTrace: true, KeepBase: 2, Keep: []string{"/data"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	want := treeOf(t, img)
	got := treeOf(t, res.Image)
	under := func(tree *rootfs.Tree) map[string]rootfs.File {
		m := map[string]rootfs.File{}
		tree.Walk("/data", func(f rootfs.File) { m[f.Path] = f })
		return m
	}
	// Wasted: the base's own 100 bytes, and the base files the new layer
	// hides (a replaced, b under the folder turned symlink, the deleted
	// x, the opaque folder's keep and old).
	hidden := int64(100)
	for _, p := range []string{"data/dir1/a", "data/link/b", "data/gone/x", "data/opq/keep", "data/opq/old"} {
		hidden += int64(len("base " + p))
	}
	if res.After.WastedBytes != hidden {
		t.Errorf("wasted after %d, want %d", res.After.WastedBytes, hidden)
	}
	w, g := under(want), under(got)
	for p, wf := range w {
		gf, ok := g[p]
		if !ok || gf.Type != wf.Type || gf.Size != wf.Size || gf.Link != wf.Link {
			t.Errorf("%s: minimised %+v (%v), original %+v", p, gf, ok, wf)
		}
	}
	for p := range g {
		if _, ok := w[p]; !ok {
			t.Errorf("%s is in the minimised image only", p)
		}
	}

	// Not kept: the upper version of a goes, and the base's version must
	// not come back; what the upper layer deleted stays deleted.
	res2, err := Minimize(context.Background(), img, Options{NoTrace: true, KeepBase: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Close()
	got2 := treeOf(t, res2.Image)
	for _, p := range []string{"/data/dir1/a", "/data/gone/x", "/data/opq/old", "/data/opq/keep", "/data/link/b"} {
		if f, ok := got2.Lookup(p); ok {
			t.Errorf("%s is back: %+v", p, f)
		}
	}
}
