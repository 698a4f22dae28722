package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/testenv"
)

func writeImage(t *testing.T, img v1.Image) string {
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

func measureImage(t *testing.T, ref string, o Options) Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tg, err := Prepare(ctx, ref, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root := tg.Starter.(*sandboxStarter).root
	runs, err := Measure(ctx, []*Target{tg}, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Close(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("root file system %s left after Close", root)
	}
	if kids := ourChildren(t); len(kids) != 0 {
		t.Errorf("processes left: %v", kids)
	}
	// The sandbox always tries to limit memory: the limit holds, or a
	// reason says why not.
	if m := runs[0].Memory; m.Enforced == (len(m.Reasons) > 0) {
		t.Errorf("memory %+v: enforced, or else a reason", m)
	}
	return runs[0]
}

// TestImageBuiltByFnopt runs the image `fnopt build` makes from a static
// bootstrap.
func TestImageBuiltByFnopt(t *testing.T) {
	testenv.RequireRoot(t)
	img, err := image.Build(context.Background(), image.BuildOptions{Bootstrap: testBins.fakefn, Arch: settings.HostArch()})
	if err != nil {
		t.Fatal(err)
	}
	run := measureImage(t, writeImage(t, img), Options{Samples: 2, Warm: 1, Expect: mustExpect(t, DefaultEvent)})
	if !run.OK() {
		t.Fatalf("%v\n%s", run.Failure, run.Failure.Output)
	}
	if len(run.Samples) != 2 || run.Samples[0].InitMs <= 0 || run.Samples[0].MaxRSSBytes <= 0 {
		t.Errorf("samples %+v", run.Samples)
	}
	sizes := map[string]int64{}
	for _, a := range run.Target.Artifacts {
		sizes[a.Name] = a.Bytes
	}
	if sizes["image_compressed"] <= 0 || sizes["image_unpacked"] <= 0 {
		t.Errorf("artifacts %+v", run.Target.Artifacts)
	}
}

// TestImageDynamicBinary runs a hand-made image: a dynamically linked
// build of the test function with the C libraries it needs, found by ldd.
func TestImageDynamicBinary(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "gcc", "gcc")
	bin := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", bin, "-ldflags", "-linkmode=external", "./testdata/fakefn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a dynamic bootstrap: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	interp := testenv.HasInterp(f)
	f.Close()
	if !interp {
		t.Fatal("the bootstrap is not dynamically linked")
	}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"var/task/bootstrap": bin}
	for _, m := range regexp.MustCompile(`(?m)(/\S+)\s+\(0x`).FindAllStringSubmatch(string(out), -1) {
		real, err := filepath.EvalSymlinks(m[1])
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(m[1], "/")] = real
	}
	img := testenv.HostImage(t, v1.Config{Entrypoint: []string{"/var/task/bootstrap"}, WorkingDir: "/var/task"}, tarLayer(t, files))
	run := measureImage(t, writeImage(t, img), Options{Samples: 2, Expect: mustExpect(t, DefaultEvent)})
	if !run.OK() {
		t.Fatalf("%v\n%s", run.Failure, run.Failure.Output)
	}
}

// tarLayer makes a layer of host files at the given image paths.
func tarLayer(t *testing.T, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for name, src := range files {
		for d := filepath.Dir(name); d != "."; d = filepath.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755})
			}
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return testenv.Layer(t, buf.Bytes())
}

func TestMergeImageEnv(t *testing.T) {
	got := MergeImageEnv(
		[]string{"PATH=/img/bin", "AWS_REGION=img-region", "APP=1"},
		[]string{"PATH=/usr/bin", "AWS_REGION=us-east-1", "_HANDLER=bootstrap", "TZ=:UTC"},
		"handler.main")
	want := "PATH=/img/bin AWS_REGION=us-east-1 APP=1 _HANDLER=handler.main TZ=:UTC"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestIsImageRef(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "registry.example.com")
	if err := os.Mkdir(existing, 0o755); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]bool{
		"oci:dist/image":             true,
		"oci:dist/image:v1":          true,
		"tar:fn.tar":                 true,
		"registry.example.com/fn:v1": true,
		"localhost:5000/fn":          true,
		"127.0.0.1:5000/team/fn@sha256:" + strings.Repeat("a", 64): true,
		"dist/bootstrap": false, // a mistyped path, not docker.io/dist/bootstrap
		"function.zip":   false,
		".":              false,
		existing:         false,
	} {
		if got := IsImageRef(ref); got != want {
			t.Errorf("IsImageRef(%q) = %v, want %v", ref, got, want)
		}
	}
}

// TestImageFailingAtStartIsNotLimited: an image whose entrypoint cannot
// be executed fails at its start, before any process ran under the memory
// limit the sandbox would have set: the run says the limit was not
// enforced (it used to say it was, as the sandbox always tries).
func TestImageFailingAtStartIsNotLimited(t *testing.T) {
	testenv.RequireRoot(t)
	script := filepath.Join(t.TempDir(), "bootstrap")
	testenv.WriteFile(t, script, "#!/no/such/interpreter\n")
	img := testenv.HostImage(t, v1.Config{Entrypoint: []string{"/var/task/bootstrap"}}, tarLayer(t, map[string]string{"var/task/bootstrap": script}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tg, err := Prepare(ctx, writeImage(t, img), PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	runs, err := Measure(ctx, []*Target{tg}, Options{Samples: 1, Function: Function{MemoryMB: 256}})
	if err != nil {
		t.Fatal(err)
	}
	if f := runs[0].Failure; f == nil || f.Phase != "start" {
		t.Fatalf("failure %+v, want one at start", f)
	}
	if runs[0].Memory.Enforced {
		t.Errorf("Memory = %+v: enforced, though no process ran", runs[0].Memory)
	}
}
