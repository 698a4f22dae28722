package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/internal/testenv"
)

// binDir holds the tiny static Go programs the tests put in images,
// built once per test binary run (TestMain) for both architectures.
var bins struct {
	dir  string
	once map[settings.Arch]*sync.Once
	errs map[settings.Arch]error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fnopt-image-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins.dir = dir
	bins.once = map[settings.Arch]*sync.Once{settings.ARM64: {}, settings.X86_64: {}}
	bins.errs = map[settings.Arch]error{}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const helloSrc = `package main

import "os"

func main() { os.Stdout.WriteString("hello from the image\n") }
`

// bootstrap returns the path of a real static ELF executable for arch
// (a tiny Go program), building it on first use.
func bootstrap(t testing.TB, arch settings.Arch) string {
	t.Helper()
	out := filepath.Join(bins.dir, "bootstrap-"+string(arch))
	bins.once[arch].Do(func() {
		src := filepath.Join(bins.dir, "src-"+string(arch))
		if err := os.MkdirAll(src, 0o755); err != nil {
			bins.errs[arch] = err
			return
		}
		files := map[string]string{"main.go": helloSrc, "go.mod": "module hello\n\ngo 1.22\n"}
		for n, c := range files {
			if err := os.WriteFile(filepath.Join(src, n), []byte(c), 0o644); err != nil {
				bins.errs[arch] = err
				return
			}
		}
		b := settings.Go(arch)
		cmd := exec.Command("go", append(append([]string{"build"}, b.Flags...), "-o", out, ".")...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), b.Env...)
		if o, err := cmd.CombinedOutput(); err != nil {
			bins.errs[arch] = fmt.Errorf("go build for %s: %v\n%s", arch, err, o)
		}
	})
	if err := bins.errs[arch]; err != nil {
		t.Fatal(err)
	}
	return out
}

// entry is a tar entry of a hand-made layer.
type entry struct {
	name string
	typ  byte
	mode int64
	link string
	data []byte
}

func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name string, mode int64, data []byte) entry {
	return entry{name: name, typ: tar.TypeReg, mode: mode, data: data}
}
func symlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target}
}

// tarOf writes entries as they are: no parent folders added, in order.
func tarOf(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Typeflag: e.typ, Name: e.name, Mode: e.mode, Linkname: e.link, Size: int64(len(e.data))}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipLayer is a gzip layer with entries exactly as given.
func gzipLayer(t testing.TB, mt types.MediaType, entries ...entry) v1.Layer {
	t.Helper()
	b := tarOf(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, tarball.WithMediaType(mt))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// zstdLayer is a zstd-compressed OCI layer.
func zstdLayer(t testing.TB, entries ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(tarOf(t, entries...))
	zw.Close()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil }, tarball.WithMediaType(types.OCILayerZStd))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// plainLayer is an uncompressed layer with an uncompressed media type.
func plainLayer(t testing.TB, entries ...entry) v1.Layer {
	return static.NewLayer(tarOf(t, entries...), types.OCIUncompressedLayer)
}

// imageOf puts layers on an empty OCI image for arch with cfg applied.
func imageOf(t testing.TB, arch string, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	return testenv.ImageFor(t, arch, cfg, layers...)
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digest(t testing.TB, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// readFiles is the merged tree of img as Check reads it, failing on
// unreadable layers.
func readFiles(t testing.TB, img v1.Image) *rootfs.Tree {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	scans := scanLayers(layers)
	for _, s := range scans {
		if s.err != nil {
			t.Fatal(s.err)
		}
	}
	return mergedTree(scans)
}
