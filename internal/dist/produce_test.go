package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/testenv"
)

func TestProduceZip(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		opts  func(dir string) Options
		// want: the architecture, where the artifacts go and what the
		// command line names as the output.
		arch   settings.Arch
		out    func(dir string) string
		output string
	}{
		{
			name:   "as fnopt.yaml says",
			opts:   func(string) Options { return Options{} },
			arch:   settings.ARM64,
			out:    func(dir string) string { return filepath.Join(dir, "dist") },
			output: "-o dist/bootstrap .",
		},
		{
			name: "another architecture and folder",
			opts: func(dir string) Options {
				return Options{Arch: settings.X86_64, OutDir: filepath.Join(dir, "elsewhere")}
			},
			arch:   settings.X86_64,
			out:    func(dir string) string { return filepath.Join(dir, "elsewhere") },
			output: "-o elsewhere/bootstrap .",
		},
		{
			name:   "zip although fnopt.yaml says image",
			files:  map[string]string{"fnopt.yaml": "name: hello\nlanguage: go\narch: arm64\npackage: image\n"},
			opts:   func(string) Options { return Options{Package: "zip"} },
			arch:   settings.ARM64,
			out:    func(dir string) string { return filepath.Join(dir, "dist") },
			output: "-o dist/bootstrap .",
		},
		{
			name:  "a configuration given instead of fnopt.yaml",
			files: map[string]string{"fnopt.yaml": ""},
			opts: func(string) Options {
				return Options{Config: &config.Config{Name: "given", Language: "go", Arch: "x86_64", Package: "zip"}}
			},
			arch:   settings.X86_64,
			out:    func(dir string) string { return filepath.Join(dir, "dist") },
			output: "-o dist/bootstrap .",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := project(t, c.files)
			res, err := Produce(context.Background(), dir, c.opts(dir))
			if err != nil {
				t.Fatal(err)
			}
			out := c.out(dir)
			if res.Arch != c.arch || !strings.Contains(res.Command, "GOARCH="+c.arch.GOARCH()) || !strings.Contains(res.Command, c.output) || res.Compiled != "." {
				t.Errorf("arch %s, command %q, compiled %q; want %s and a command naming %q", res.Arch, res.Command, res.Compiled, c.arch, c.output)
			}
			if res.Image != nil {
				t.Errorf("image %+v for a zip build", res.Image)
			}
			for _, f := range []struct {
				got  File
				want string
			}{{res.Bootstrap, filepath.Join(out, "bootstrap")}, {res.Zip, filepath.Join(out, ZipName)}} {
				if f.got.Path != f.want {
					t.Errorf("path %s, want %s", f.got.Path, f.want)
				}
				if b, err := os.ReadFile(f.want); err != nil || int64(len(b)) != f.got.Bytes || sha(b) != f.got.SHA256 {
					t.Errorf("%s: %d bytes, sha256 %s on disk (%v); result says %d, %s", f.want, len(b), sha(b), err, f.got.Bytes, f.got.SHA256)
				}
			}
			if res.Zip.Bytes >= res.Bootstrap.Bytes {
				t.Errorf("zip %d bytes, bootstrap %d: not compressed", res.Zip.Bytes, res.Bootstrap.Bytes)
			}
			// The artifacts and nothing else: no staging folder left.
			if got := names(t, out); got != "bootstrap function.zip" {
				t.Errorf("%s holds %s", out, got)
			}
		})
	}
}

// Two copies of a project in different folders give the same bytes.
func TestProduceReproducible(t *testing.T) {
	var sums []string
	for range 2 {
		res, err := Produce(context.Background(), project(t, nil), Options{Arch: settings.X86_64})
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, res.Bootstrap.SHA256+" "+res.Zip.SHA256)
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds differ: %s vs %s", sums[0], sums[1])
	}
}

func TestProduceImage(t *testing.T) {
	dir := project(t, nil)
	image1 := func(o ImageOptions) *ImageResult {
		t.Helper()
		res, err := Produce(context.Background(), dir, Options{Package: "image", Image: o})
		if err != nil {
			t.Fatal(err)
		}
		if res.Image == nil {
			t.Fatal("no image in the result")
		}
		return res.Image
	}
	r1 := image1(ImageOptions{})
	layoutDir := filepath.Join(dir, "dist", "image")
	if r1.Dest.String() != "oci:"+layoutDir || r1.Platform != "linux/arm64" || r1.CompressedBytes == 0 || r1.UncompressedBytes == 0 {
		t.Errorf("image %+v, want oci:%s for linux/arm64", r1, layoutDir)
	}
	img, err := image.Load(context.Background(), image.Ref{Kind: image.OCI, Path: layoutDir}, image.LoadOptions{Platform: image.PlatformOf(settings.ARM64)})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d.String() != r1.Digest {
		t.Errorf("the layout holds %s, the result says %s", d, r1.Digest)
	}
	if vs := image.Check(img); len(vs) > 0 {
		t.Errorf("the image breaks rules: %+v", vs)
	}

	// Rebuilding replaces the default destination with the same image.
	if r2 := image1(ImageOptions{}); r2.Digest != r1.Digest {
		t.Errorf("rebuilt image %s, first %s", r2.Digest, r1.Digest)
	}
	if got := names(t, filepath.Join(dir, "dist")); got != "bootstrap function.zip image" {
		t.Errorf("dist holds %s", got)
	}
	// Without CA certificates: one layer less, another digest.
	if r3 := image1(ImageOptions{NoCACerts: true}); r3.Digest == r1.Digest || r3.UncompressedBytes >= r1.UncompressedBytes {
		t.Errorf("without CA certificates: %s, %d bytes; with: %s, %d bytes", r3.Digest, r3.UncompressedBytes, r1.Digest, r1.UncompressedBytes)
	}
	// An explicit destination (which implies an image) on the previous
	// image as a base: written there, dist/image left as it was.
	before := snapshot(t, layoutDir)
	tarRef := image.Ref{Kind: image.Tarball, Path: filepath.Join(t.TempDir(), "img.tar")}
	res, err := Produce(context.Background(), dir, Options{Image: ImageOptions{Dest: tarRef, Base: &image.Ref{Kind: image.OCI, Path: layoutDir}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tarRef.Path); err != nil || res.Image.Dest != tarRef {
		t.Errorf("tar destination: %v, result %+v", err, res.Image)
	}
	if res.Image.UncompressedBytes <= r1.UncompressedBytes {
		t.Errorf("image on a base: %d bytes uncompressed, the base alone %d", res.Image.UncompressedBytes, r1.UncompressedBytes)
	}
	if d := sameTree(before, snapshot(t, layoutDir)); d != "" {
		t.Errorf("dist/image changed by a build to another destination: %s", d)
	}
}

// Every problem is reported before anything is built, or leaves the
// output folder empty; no message names a command's flag.
func TestProduceErrors(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "there.tar")
	writeFile(t, existing, "x")
	registry, err := image.ParseRef(refused(t) + "/fn:v1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		files map[string]string // nil: an empty folder
		opts  Options
		want  string
		is    error // when set, errors.Is must hold
		log   string
	}{
		{name: "not a project", want: "not a function project", is: config.ErrNotProject},
		{name: "broken fnopt.yaml", files: map[string]string{"fnopt.yaml": "name: x\nlanguage: cobol\n"}, want: `language "cobol" is not one of`},
		{name: "bad package", files: map[string]string{}, opts: Options{Package: "deb"}, want: `unknown packaging "deb": use one of zip, image`},
		{name: "base without an image", files: map[string]string{}, opts: Options{Image: ImageOptions{Base: &image.Ref{Kind: image.OCI, Path: "x"}}}, is: ErrImageOnly},
		{name: "no CA certificates without an image", files: map[string]string{}, opts: Options{Image: ImageOptions{NoCACerts: true}}, is: ErrImageOnly},
		{name: "destination exists", files: map[string]string{}, opts: Options{Image: ImageOptions{Dest: image.Ref{Kind: image.Tarball, Path: existing}}}, want: "exists: remove it or choose another destination", is: fs.ErrExist},
		{name: "failing compiler", files: map[string]string{"main.go": "package main\n\nfunc main() { notDefined() }\n"}, want: "go build failed", log: "undefined: notDefined"},
		{name: "no main package", files: map[string]string{"main.go": "", "lib.go": "package lib\n"}, want: "no main package"},
		{name: "unreachable registry", files: map[string]string{}, opts: Options{Image: ImageOptions{Dest: registry, Insecure: true}}, want: "cannot reach registry"},
		{name: "unreachable base", files: map[string]string{}, opts: Options{Package: "image", Image: ImageOptions{Base: &registry, Insecure: true}}, want: "loading the base image"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.files != nil {
				dir = project(t, c.files)
			}
			var log strings.Builder
			c.opts.Log = &log
			_, err := Produce(context.Background(), dir, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("Produce = %v, want %q (is %v)", err, c.want, c.is)
			}
			if strings.Contains(err.Error(), "--") {
				t.Errorf("library error names a flag: %v", err)
			}
			// The compiler's output is carried by the error, for the
			// command to show, not written to the log without Verbose.
			var d interface{ Details() string }
			if c.log != "" && (!errors.As(err, &d) || !strings.Contains(d.Details(), c.log)) {
				t.Errorf("the error does not carry %q", c.log)
			}
			if log.Len() != 0 {
				t.Errorf("log written without Verbose:\n%s", log.String())
			}
			if _, err := os.Lstat(filepath.Join(dir, "dist")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("a failed build left dist/ behind (%v): it did not exist before", err)
			}
			if b, _ := os.ReadFile(existing); string(b) != "x" {
				t.Error("the existing destination changed")
			}
		})
	}
}

// A failed rebuild leaves every previous artifact as it was: none is
// replaced unless all are, however late the failure.
func TestProduceKeepsPreviousArtifacts(t *testing.T) {
	cases := []struct {
		name string
		// spoil changes the output folder after the first build, or the
		// options or the context of the second, so that the second fails.
		spoil func(t *testing.T, dist string, o *Options) context.Context
		want  string
	}{
		{"the push fails", func(t *testing.T, _ string, o *Options) context.Context {
			ref, err := image.ParseRef(refused(t) + "/fn:v1")
			if err != nil {
				t.Fatal(err)
			}
			o.Image = ImageOptions{Dest: ref, Insecure: true}
			return context.Background()
		}, "cannot reach registry"},
		// The second of the renames that install the set fails: the
		// bootstrap has been moved aside already and must come back.
		{"the zip cannot be replaced", func(t *testing.T, dist string, _ *Options) context.Context {
			zip := filepath.Join(dist, ZipName)
			if err := os.Remove(zip); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(zip, "keep"), "someone's")
			return context.Background()
		}, "it is a folder, not a file"},
		{"the image cannot be replaced", func(t *testing.T, dist string, o *Options) context.Context {
			writeFile(t, filepath.Join(dist, imageDir), "someone's")
			o.Package = "image"
			return context.Background()
		}, "it is a file, not a folder"},
		{"cancelled", func(*testing.T, string, *Options) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "interrupted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := project(t, nil)
			dist := filepath.Join(dir, "dist")
			if _, err := Produce(context.Background(), dir, Options{}); err != nil {
				t.Fatal(err)
			}
			// Another source, so every new artifact would differ.
			writeFile(t, filepath.Join(dir, "main.go"), strings.Replace(testenv.EchoFunction(), "os.Exit(1)", "os.Exit(3)", 1))
			var o Options
			ctx := c.spoil(t, dist, &o)
			before := snapshot(t, dist)
			if _, err := Produce(ctx, dir, o); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Produce = %v, want %q", err, c.want)
			}
			if d := sameTree(before, snapshot(t, dist)); d != "" {
				t.Errorf("after a failed build %s", d)
			}
		})
	}
}

// A caller's compiler is used as it is; Produce stages, zips and installs
// what it writes.
func TestProduceCompileFunc(t *testing.T) {
	dir := project(t, nil)
	out := filepath.Join(t.TempDir(), "out")
	const script = "#!/bin/sh\necho their build\n"
	var got build.Options
	compile := func(_ context.Context, d string, cfg *config.Config, o build.Options) (*build.Result, error) {
		got = o
		p := filepath.Join(o.OutDir, settings.Handler)
		if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
			return nil, err
		}
		return &build.Result{Bootstrap: p, Arch: o.Arch, BinaryBytes: int64(len(script)), Command: "make bootstrap", Package: cfg.Name}, nil
	}
	res, err := Produce(context.Background(), dir, Options{OutDir: out, Arch: settings.X86_64, Env: []string{"A=b"}, Compile: compile})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(got.OutDir) != out || got.FinalDir != out || got.Arch != settings.X86_64 || len(got.Env) != 1 {
		t.Errorf("the compiler was given %+v: want a staging folder in %s, FinalDir %s, the architecture and the environment", got, out, out)
	}
	if res.Command != "make bootstrap" || res.Compiled != "hello" || res.Bootstrap.Bytes != int64(len(script)) || res.Zip.Bytes == 0 {
		t.Errorf("result %+v", res)
	}
	if got := names(t, out); got != "bootstrap function.zip" {
		t.Errorf("%s holds %s", out, got)
	}
}

// names lists a folder's entries, hidden ones included; "" when it is
// empty or absent.
func names(t *testing.T, dir string) string {
	t.Helper()
	return strings.Join(testenv.Entries(t, dir), " ")
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// recorder is a Progress and a Log that note what they hear, in order.
type recorder struct{ events []string }

func (r *recorder) Step(what string) { r.events = append(r.events, "step "+what) }
func (r *recorder) Clear()           { r.events = append(r.events, "clear") }
func (r *recorder) Write(b []byte) (int, error) {
	r.events = append(r.events, "log")
	return len(b), nil
}

// Progress hears each step, and is cleared before the log is written to
// (compiler output starts on a clean line) and at the end.
func TestProduceProgress(t *testing.T) {
	tarRef := image.Ref{Kind: image.Tarball, Path: filepath.Join(t.TempDir(), "img.tar")}
	cases := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []string // in order; "clear" entries repeated by Produce are collapsed
	}{
		{"zip", nil, Options{}, []string{"step building hello for arm64", "step writing function.zip", "clear"}},
		{"image", nil, Options{Image: ImageOptions{Dest: tarRef}}, []string{
			"step building hello for arm64", "step writing function.zip", "step assembling the image", "step writing " + tarRef.String(), "clear",
		}},
		// The output is in the error: nothing is written to the log.
		{"compiler fails", map[string]string{"main.go": "package main\n\nfunc main() { notDefined() }\n"}, Options{}, []string{
			"step building hello for arm64", "clear",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			c.opts.Progress, c.opts.Log = r, r
			Produce(context.Background(), project(t, c.files), c.opts)
			var got []string
			for _, e := range r.events {
				if e == "clear" && len(got) > 0 && got[len(got)-1] == "clear" {
					continue
				}
				got = append(got, e)
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// A destination that cannot be written, or plain HTTP to a registry off
// this machine, is refused before the compiler runs, not after the build
// (they used to fail at the write or the push).
func TestProduceRefusesDestinationBeforeBuilding(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	remote, err := image.ParseRef("registry.example.com/fn:v1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		image ImageOptions
		want  string
		as    any // a pointer to the error type errors.As must find
	}{
		{"tarball in a missing folder", ImageOptions{Dest: image.Ref{Kind: image.Tarball, Path: filepath.Join(missing, "fn.tar")}}, "folder " + missing + " does not exist", new(*image.DestError)},
		{"layout in a missing folder", ImageOptions{Dest: image.Ref{Kind: image.OCI, Path: filepath.Join(missing, "layout")}}, "folder " + missing + " does not exist", new(*image.DestError)},
		{"plain HTTP to a remote destination", ImageOptions{Dest: remote, Insecure: true}, "registry.example.com is not one", new(*image.InsecureHostError)},
		{"plain HTTP to a remote base", ImageOptions{Base: &remote, Insecure: true}, "registry.example.com is not one", new(*image.InsecureHostError)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := project(t, nil)
			compiled := false
			compile := func(context.Context, string, *config.Config, build.Options) (*build.Result, error) {
				compiled = true
				return nil, errors.New("not reached")
			}
			_, err := Produce(context.Background(), dir, Options{Package: "image", Image: c.image, Compile: compile})
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, c.as) {
				t.Fatalf("Produce = %v, want a %T saying %q", err, c.as, c.want)
			}
			if compiled {
				t.Error("the compiler ran before the destination was refused")
			}
			if got := names(t, filepath.Join(dir, "dist")); got != "" {
				t.Errorf("dist holds %s", got)
			}
		})
	}
}
