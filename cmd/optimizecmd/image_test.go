package optimizecmd

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/internal/registrytest"
	"github.com/fnopt/fnopt/internal/schematest"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/optimize/slim"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/sandbox"
)

func TestMain(m *testing.M) {
	// optimize image runs images in the sandbox, which re-executes the
	// test binary as its init.
	sandbox.MaybeRunInit()
	os.Exit(m.Run())
}

// dynamicImage is an image of verify's minimal C runtime built
// dynamically, with the libraries ldd names and some unused weight.
func dynamicImage(t *testing.T) (ref string, libc string) {
	t.Helper()
	testenv.LookPath(t, "gcc", "gcc")
	bin := filepath.Join(t.TempDir(), "bootstrap")
	if out, err := exec.Command("gcc", "-O2", "-o", bin, "../../verify/testdata/minimal/main.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"var/task/bootstrap": bin, "usr/bin/unused": "/usr/bin/gcc"}
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				files[strings.TrimPrefix(f, "/")] = f
				if strings.Contains(f, "libc.so") {
					libc = f
				}
			}
		}
	}
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
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(b))})
		tw.Write(b)
	}
	tw.Close()
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", settings.HostArch().GOARCH()
	cf.Config.Entrypoint = []string{"/var/task/bootstrap"}
	cf.Config.WorkingDir = "/var/task"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	ref = "oci:" + filepath.Join(t.TempDir(), "src")
	r, _ := image.ParseRef(ref)
	if err := image.Write(context.Background(), img, r, image.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return ref, libc
}

func runImage(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ios, _, out, errOut := cmdutil.Test()
	cmd := newImageCmd(ios)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetContext(context.Background())
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var ee *cmdutil.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if err == nil {
		return 0
	}
	return 2
}

func TestOptimizeImage(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "strace", "strace")
	src, libc := dynamicImage(t)
	dstDir := filepath.Join(t.TempDir(), "slim")

	t.Run("written after the proof", func(t *testing.T) {
		out, _, err := runImage(t, src, "--to", "oci:"+dstDir, "--explain", "--samples", "2")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		t.Log(out)
		for _, want := range []string{"/var/task/bootstrap", "entrypoint", libc, "compressed", "cold start p50", "wrote oci:" + dstDir} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "/usr/bin/unused") {
			t.Errorf("unused program kept:\n%s", out)
		}
		r, _ := image.ParseRef("oci:" + dstDir)
		img, err := image.Load(context.Background(), r, image.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if vs := image.Check(img); len(vs) > 0 {
			t.Errorf("written image fails the check: %v", vs)
		}
	})

	t.Run("registry to registry", func(t *testing.T) {
		host := registrytest.InProcess(t)
		r, _ := image.ParseRef(src)
		img, err := image.Load(context.Background(), r, image.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		from, _ := image.ParseRef(host + "/fn:v1")
		if err := image.Write(context.Background(), img, from, image.WriteOptions{Insecure: true}); err != nil {
			t.Fatal(err)
		}
		out, _, err := runImage(t, host+"/fn:v1", "--to", host+"/fn:slim", "--insecure", "--samples", "1", "--json")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		schematest.Load(t, "optimize.image.v1.schema.json").Validate(t, []byte(out))
		var doc ImageDocument
		if err := json.Unmarshal([]byte(out), &doc); err != nil || !doc.Written || doc.Schema != ImageSchema {
			t.Fatalf("document %+v (%v)", doc, err)
		}
		to, _ := image.ParseRef(host + "/fn:slim")
		pushed, err := image.Load(context.Background(), to, image.LoadOptions{Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := pushed.Digest(); d.String() != doc.Digest {
			t.Errorf("pushed %s, reported %s", d, doc.Digest)
		}
	})

	t.Run("multi-platform source", func(t *testing.T) {
		r, _ := image.ParseRef(src)
		img, err := image.Load(context.Background(), r, image.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		other := settings.ARM64
		if settings.HostArch() == settings.ARM64 {
			other = settings.X86_64
		}
		otherImg, err := random.Image(1024, 1)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := otherImg.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", other.GOARCH()
		if otherImg, err = mutate.ConfigFile(otherImg, cf); err != nil {
			t.Fatal(err)
		}
		idx := mutate.AppendManifests(empty.Index,
			mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: image.PlatformOf(settings.HostArch())}},
			mutate.IndexAddendum{Add: otherImg, Descriptor: v1.Descriptor{Platform: image.PlatformOf(other)}})
		dir := filepath.Join(t.TempDir(), "index")
		if _, err := layout.Write(dir, idx); err != nil {
			t.Fatal(err)
		}
		host := "linux/" + settings.HostArch().GOARCH()
		if out, _, err := runImage(t, "oci:"+dir, "--to", "oci:"+filepath.Join(t.TempDir(), "out"), "--platform", host, "--samples", "1"); err != nil {
			t.Errorf("--platform %s: %v\n%s", host, err, out)
		}
		_, _, err = runImage(t, "oci:"+dir, "--to", "oci:"+filepath.Join(t.TempDir(), "out"), "--platform", "linux/"+other.GOARCH())
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "this machine is") {
			t.Errorf("--platform of another architecture: %v", err)
		}
		_, _, err = runImage(t, "oci:"+dir, "--to", "oci:"+filepath.Join(t.TempDir(), "out"), "--platform", "linux/s390x")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "no linux/s390x image in the index") || !strings.HasSuffix(err.Error(), "pick one with --platform") {
			t.Errorf("--platform the index lacks: %v", err)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		hit := 0
		for _, after := range []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond} {
			dst := filepath.Join(t.TempDir(), "out")
			ctx, cancel := context.WithTimeout(context.Background(), after)
			ios, _, _, _ := cmdutil.Test()
			err := RunImage(ctx, &ImageOptions{IO: ios, Src: src, Dst: "oci:" + dst, Samples: 3})
			cancel()
			if err == nil {
				continue // finished before the interruption: nothing to check
			}
			hit++
			if exitCode(err) != 2 || !strings.Contains(err.Error(), "interrupted") {
				t.Errorf("after %v: %v", after, err)
			}
			if _, serr := os.Stat(dst); serr == nil {
				t.Errorf("after %v: %s written", after, dst)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("after %v: temporary files left: %v", after, left)
			}
		}
		if hit == 0 {
			t.Error("no run was interrupted")
		}
	})

	t.Run("expect", func(t *testing.T) {
		if _, _, err := runImage(t, src, "--to", "oci:"+filepath.Join(t.TempDir(), "a"), "--samples", "1", "--expect", "/^.ok.$/"); err != nil {
			t.Errorf("--expect matching: %v", err)
		}
		dst := filepath.Join(t.TempDir(), "b")
		out, _, err := runImage(t, src, "--to", "oci:"+dst, "--samples", "1", "--expect", `{"other":1}`)
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "original image fails") {
			t.Errorf("--expect not matching: exit %d (%v)\n%s", exitCode(err), err, out)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Error("written although the expectation failed")
		}
	})

	t.Run("existing destination refused", func(t *testing.T) {
		_, _, err := runImage(t, src, "--to", "oci:"+dstDir)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("failing minimisation writes nothing and names the file", func(t *testing.T) {
		dst := filepath.Join(t.TempDir(), "broken.tar")
		out, _, err := runImage(t, src, "--to", "tar:"+dst, "--exclude", libc, "--samples", "1")
		if exitCode(err) != 1 {
			t.Fatalf("exit %d (%v), want 1\n%s", exitCode(err), err, out)
		}
		if !strings.Contains(err.Error(), "libc.so.6") || !strings.Contains(out, "probably lacks") {
			t.Errorf("the missing library is not named: %v\n%s", err, out)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("%s written although the proof failed", dst)
		}
	})
}

// TestImageRefusals: bad flags and requests the library refuses end with
// exit 2 and a message naming the flag, before any image is run.
func TestImageRefusals(t *testing.T) {
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	src := "oci:" + filepath.Join(t.TempDir(), "src")
	r, _ := image.ParseRef(src)
	if err := image.Write(context.Background(), img, r, image.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	os.MkdirAll(existing, 0o755)
	os.WriteFile(filepath.Join(existing, "index.json"), []byte("{}"), 0o644)
	notJSON := filepath.Join(dir, "event.txt")
	os.WriteFile(notJSON, []byte("hello"), 0o644)
	free := "oci:" + filepath.Join(dir, "free")
	// A registry that speaks plain HTTP, on loopback.
	plain := registrytest.InProcess(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"plain HTTP without --insecure", []string{plain + "/fn:v1", "--to", free},
			"pulling " + plain + "/fn:v1: registry " + plain + " speaks plain HTTP, not HTTPS, and plain HTTP was not allowed; pass --insecure to allow it"},
		{"--insecure to a remote registry", []string{"registry.example.com/fn:v1", "--to", free, "--insecure"},
			"--insecure: plain HTTP is allowed only to a loopback registry (localhost, 127.0.0.1, [::1]); registry.example.com is not one: use HTTPS"},
		{"bad destination", []string{src, "--to", "oci:"}, `--to: image reference "oci:": missing folder; write oci:DIR[:TAG]`},
		{"existing destination", []string{src, "--to", "oci:" + existing},
			"--to oci:" + existing + ": " + existing + " already exists; fnopt never overwrites an image: choose another name or remove it"},
		{"no sample", []string{src, "--to", free, "--samples", "0"}, "--samples 0: measure at least 1"},
		{"unreadable event", []string{src, "--to", free, "--event", filepath.Join(dir, "none.json")},
			"reading --event: open " + filepath.Join(dir, "none.json") + ": no such file or directory"},
		{"event not JSON", []string{src, "--to", free, "--event", notJSON}, "--event " + notJSON + " is not valid JSON"},
		{"bad platform", []string{src, "--to", free, "--platform", "linux/amd64/v2/extra"}, "--platform linux/amd64/v2/extra: "},
		{"every layer kept", []string{src, "--to", free, "--keep-base", "1"}, "--keep-base 1: the image has 1 layers; keep fewer than that"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runImage(t, tc.args...)
			if exitCode(err) != 2 || err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("exit %d, %v; want exit 2, %q", exitCode(err), err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "free")); err == nil {
				t.Error("the destination was written")
			}
		})
	}
}

// TestImageText: the text report, written and failed, with sizes in
// bytesize's words.
func TestImageText(t *testing.T) {
	runOf := func(ms ...float64) verify.Run {
		var r verify.Run
		for _, m := range ms {
			r.Samples = append(r.Samples, verify.Sample{ColdStartMs: m})
		}
		return r
	}
	before := slim.Stats{Compressed: 1677722, Uncompressed: 3460301, Layers: 1, Files: 4}
	after := slim.Stats{Compressed: 1003520, Uncompressed: 2202010, Layers: 1, Files: 3}
	// dive's figures are shown with --explain only.
	before.Efficiency = rootfs.Efficiency{Score: 0.6, WastedBytes: 2000, UserWastedPercent: 0.25}
	after.Efficiency = rootfs.Efficiency{Score: 1}
	for _, tc := range []struct {
		name    string
		doc     ImageDocument
		proof   slim.Proof
		explain bool
		want    string
	}{
		{
			name:  "written",
			doc:   ImageDocument{Destination: "oci:slim", Written: true, Digest: "sha256:5b2b", Original: before, Minimised: after},
			proof: slim.Proof{Original: runOf(1.4, 1.4), Minimised: runOf(0.7, 0.7)},
			want: "                                                 original    minimised   \n" +
				"compressed                                       1.6 MiB     980.0 KiB   -40%\n" +
				"uncompressed                                     3.3 MiB     2.1 MiB     -36%\n" +
				"layers                                           1           1           \n" +
				"files                                            4           3           \n" +
				"wasted (overwritten or deleted by later layers)  0 B         0 B         \n" +
				"cold start p50                                   1.4 ms (2)  0.7 ms (2)  \n" +
				"\n" +
				`Both images answered the same in 2 interleaved cold starts each; wrote oci:slim (sha256:5b2b).
`,
		},
		{
			name: "failed, explained",
			doc: ImageDocument{
				Destination: "oci:slim", Original: before, Minimised: after, Failure: "minimised: sample 1, init: exit status 4",
				MissingFile: "/opt/plugins/libplugin.so", Kept: []slim.Kept{{Path: "/var/task/bootstrap", Reasons: []string{"entrypoint"}}},
				SkippedCount: 1, Skipped: []slim.Skipped{{Layer: 1, Name: "dev/evil", Reason: "device node"}},
				Missing: []string{"libx.so, needed by /var/task/bootstrap, is not in the image"}, Notes: []string{"a note"},
			},
			proof:   slim.Proof{Original: runOf(1.4), MissingHow: "openat ENOENT"},
			explain: true,
			want: "Kept:\n" +
				"  /var/task/bootstrap\n" +
				"      entrypoint\n" +
				"\n" +
				"                                                 original    minimised  \n" +
				"compressed                                       1.6 MiB     980.0 KiB  -40%\n" +
				"uncompressed                                     3.3 MiB     2.1 MiB    -36%\n" +
				"layers                                           1           1          \n" +
				"files                                            4           3          \n" +
				"wasted (overwritten or deleted by later layers)  0 B         0 B        \n" +
				"efficiency (dive)                                60.00%      100.00%    \n" +
				"wasted bytes (dive)                              2.0 KiB     0 B        \n" +
				"user wasted (dive)                               25.00%      0.00%      \n" +
				"cold start p50                                   1.4 ms (1)  -          \n" +
				"\n" +
				`1 unsafe layer entries left out:
  layer 1 dev/evil: device node
note: libx.so, needed by /var/task/bootstrap, is not in the image (the original lacks it too)
note: a note

The minimised image failed: minimised: sample 1, init: exit status 4
It probably lacks /opt/plugins/libplugin.so (openat ENOENT in its traced run).
`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeImageText(&b, &tc.doc, &tc.proof, tc.explain)
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}
