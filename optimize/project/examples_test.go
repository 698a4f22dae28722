package project

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/procgroup"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// repoRoot walks up from the package folder to the one holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}

// fixture copies examples/NAME into a temporary folder.
func fixture(t testing.TB, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if err := CopyTree(filepath.Join(repoRoot(t), "examples", name), dst, nil); err != nil {
		t.Fatal(err)
	}
	return dst
}

// checksum hashes every file of a tree (names, modes and contents), so a
// test can prove nothing was written.
func checksum(t testing.TB, dir string) string {
	t.Helper()
	h := sha256.New()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		names = append(names, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	for _, p := range names {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		h.Write([]byte(rel + "\x00" + fi.Mode().String() + "\x00"))
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func ids(fs []Finding, pick func(Finding) bool) []string {
	var out []string
	for _, f := range fs {
		if pick(f) {
			out = append(out, f.ID)
		}
	}
	return out
}

func applicable(f Finding) bool    { return f.Applicable() }
func notApplicable(f Finding) bool { return !f.Applicable() }

// The legacy fixtures: what optimize must find in each, and how to check
// the result still works after --apply.
var fixtures = []struct {
	name      string
	apply     []string // applicable findings, most valuable first
	other     []string // blocked or by hand
	changed   []string // files --apply changes
	lang      string
	build     []string // the project's own build command
	bootstrap string   // what it builds
	arch      settings.Arch
	event     string
	want      string // in the response
}{
	{name: "legacy-go-sam", lang: "go",
		apply:   []string{"go1x-runtime", "go-ldflags", "go-tags-norpc", "arch-arm64", "go-cgo", "go-trimpath"},
		changed: []string{"Makefile", "template.yaml"},
		build:   []string{"make", "build"}, bootstrap: "bin/bootstrap", arch: settings.ARM64,
		event: `{"body":"{\"id\":\"o-1\",\"items\":[{\"sku\":\"a\",\"quantity\":2,\"price\":5}]}"}`, want: `\"total\":12`},
	{name: "legacy-go-serverless", lang: "go",
		apply:   []string{"go1x-runtime", "go-ldflags", "go-tags-norpc", "arch-arm64", "go-cgo", "go-trimpath"},
		changed: []string{"Makefile", "serverless.yml"},
		build:   []string{"make", "build"}, bootstrap: "bin/bootstrap", arch: settings.ARM64,
		event: `{"queryStringParameters":{"name":"Ada"}}`, want: `Hello, Ada!`},
	{name: "legacy-go-heavyinit", lang: "go",
		apply:   []string{"go-ldflags", "go-cgo", "go-trimpath"},
		changed: []string{"Makefile"},
		build:   []string{"make", "build"}, bootstrap: "bootstrap", arch: settings.ARM64,
		event: `{"text":"hello"}`, want: `"allowed":true`},
	{name: "legacy-rust", lang: "rust",
		apply:   []string{"debug-build", "rust-profile", "al2-runtime"},
		other:   []string{"arch-arm64"},
		changed: []string{"Cargo.toml", "Makefile", "template.yaml"},
		build:   []string{"make", "build"}, bootstrap: "dist/bootstrap", arch: settings.X86_64,
		event: `{"text":"the quick brown fox"}`, want: `"words":4`},
}

func TestFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			// The Rust build is the long one: the Go fixtures run beside it.
			t.Parallel()
			dir := fixture(t, fx.name)
			before := checksum(t, dir)
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := plan.Diff(); err != nil {
				t.Fatal(err)
			}
			if got := checksum(t, dir); got != before {
				t.Fatal("analysing and diffing wrote to the project")
			}
			if plan.Project.Language != fx.lang {
				t.Errorf("language %q, want %q", plan.Project.Language, fx.lang)
			}
			if got := ids(plan.Findings, applicable); strings.Join(got, " ") != strings.Join(fx.apply, " ") {
				t.Errorf("applicable findings %v, want %v", got, fx.apply)
			}
			if got := ids(plan.Findings, notApplicable); strings.Join(got, " ") != strings.Join(fx.other, " ") {
				t.Errorf("other findings %v, want %v", got, fx.other)
			}
			for _, f := range plan.Findings {
				if len(f.Evidence) == 0 || f.Why == "" || f.Effect == "" {
					t.Errorf("%s: evidence, why and effect are required: %+v", f.ID, f)
				}
			}
			old := readAll(t, dir, fx.changed)
			files, err := Apply(plan, OSWriter{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(files, " ") != strings.Join(fx.changed, " ") {
				t.Errorf("changed %v, want %v", files, fx.changed)
			}
			checkMinimal(t, plan, old, readAll(t, dir, fx.changed))
			if tmpl, err := os.ReadFile(filepath.Join(dir, "template.yaml")); err == nil {
				checkSAM(t, tmpl) // the edited template is still valid SAM
			}
			again, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(again.Findings, applicable); len(got) > 0 {
				d, _ := again.Diff()
				t.Errorf("second analysis still finds %v:\n%s", got, d)
			}
			env := buildEnv(t, fx.lang)
			run(t, dir, env, fx.build[0], fx.build[1:]...)
			if fx.lang == "go" {
				run(t, dir, env, "go", "test", "./...")
			} else {
				run(t, dir, env, "cargo", "test", "--quiet")
			}
			res := invoke(t, filepath.Join(dir, fx.bootstrap), fx.arch, fx.event)
			if res.Error != nil || !strings.Contains(string(res.Body), fx.want) {
				t.Errorf("invocation answered %s (error %v), want %s in it", res.Body, res.Error, fx.want)
			}
		})
	}
}

func readAll(t *testing.T, dir string, files []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	return out
}

// checkMinimal checks that the edits touch only the lines the plan says
// it edits: every removed or replaced line is one an edit starts on, and
// comment lines all survive.
func checkMinimal(t *testing.T, plan *Plan, old, new map[string]string) {
	t.Helper()
	edited := map[string]map[int]bool{}
	for _, f := range plan.Applicable() {
		for _, e := range f.Edits {
			if edited[e.File] == nil {
				edited[e.File] = map[int]bool{}
			}
			edited[e.File][e.Line] = true
		}
	}
	for f, o := range old {
		n := new[f]
		for _, l := range strings.Split(o, "\n") {
			if trimmed := strings.TrimSpace(l); strings.HasPrefix(trimmed, "#") && !strings.Contains(n, l) {
				t.Errorf("%s: comment line lost: %q", f, l)
			}
		}
		for _, op := range diffLines(splitLines(o), splitLines(n)) {
			if op.kind == '-' && !edited[f][op.aLine] {
				t.Errorf("%s:%d changed but no edit is planned there: %q\n%s", f, op.aLine, op.text, UnifiedDiff(f, f, []byte(o), []byte(n), 1))
			}
		}
	}
}

func buildEnv(t *testing.T, lang string) []string {
	if lang == "rust" {
		return testenv.CargoEnv(t)
	}
	return nil
}

func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := testenv.Command(dir, env, name, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// invoke starts a bootstrap against the Runtime API emulator (under qemu
// for another architecture) and sends it one event.
func invoke(t *testing.T, bin string, arch settings.Arch, event string) *runtimeapi.Result {
	t.Helper()
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "fixture", MemoryMB: 256, Timeout: 60 * time.Second})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	argv := []string{bin}
	if arch != settings.HostArch() {
		qemu := testenv.LookPath(t, "qemu-aarch64-static", "qemu-user-static")
		argv = []string{qemu, bin}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(hs.URL, "http://"), "TAX_RATE=0.20")
	procgroup.Set(cmd)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = procgroup.Kill(cmd.Process)
		cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := srv.Invoke(ctx, []byte(event))
	if err != nil {
		t.Fatalf("invoking %s: %v\n%s", bin, err, out.String())
	}
	return res
}
