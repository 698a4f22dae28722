package templates_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/artifact"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/templates"
)

// TestZipGoIsFnoptsZip: the zip.go of every generated project (what `make
// zip` runs, Go and Rust alike) writes byte for byte the zip fnopt build
// writes (artifact.WriteZip), with the same file mode, whatever the
// bootstrap holds.
func TestZipGoIsFnoptsZip(t *testing.T) {
	dir := t.TempDir()
	for _, lang := range []string{"go", "rust"} {
		fs := files(t, templates.Options{Name: "zipper", Lang: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "minimal"})
		if lang == "rust" {
			fs = files(t, templates.Options{Name: "zipper", Lang: "rust", Event: "raw", Arch: "arm64", Package: "zip", Client: "minimal"})
		}
		zipGo := filepath.Join(dir, lang, "zip.go")
		if err := os.MkdirAll(filepath.Dir(zipGo), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(zipGo, fs["zip.go"].Data, 0o644); err != nil {
			t.Fatal(err)
		}
		random := make([]byte, 3<<20)
		rand.Read(random)
		for name, content := range map[string][]byte{
			"empty":  nil,
			"text":   bytes.Repeat([]byte("a Lambda bootstrap\n"), 1000),
			"random": random, // incompressible: deflate's stored blocks
		} {
			t.Run(lang+"/"+name, func(t *testing.T) {
				work := filepath.Join(dir, lang, name)
				if err := os.MkdirAll(work, 0o755); err != nil {
					t.Fatal(err)
				}
				boot := filepath.Join(work, "bootstrap")
				if err := os.WriteFile(boot, content, 0o755); err != nil {
					t.Fatal(err)
				}
				mine, theirs := filepath.Join(work, "make.zip"), filepath.Join(work, "fnopt.zip")
				run(t, work, "go", "run", zipGo, boot, mine)
				if _, err := artifact.WriteZip(boot, theirs); err != nil {
					t.Fatal(err)
				}
				sameFile(t, mine, theirs)
			})
		}
	}
}

// sameFile fails unless a and b have the same bytes and permissions.
func sameFile(t *testing.T, a, b string) {
	t.Helper()
	da, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	db, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(da, db) {
		t.Errorf("%s (%d bytes) and %s (%d bytes) differ", a, len(da), b, len(db))
	}
	fa, _ := os.Stat(a)
	fb, _ := os.Stat(b)
	if fa.Mode() != fb.Mode() {
		t.Errorf("%s is %v, %s is %v", a, fa.Mode(), b, fb.Mode())
	}
}

// sameZipAsFnopt: dist/function.zip, as `make zip` wrote it, is the zip
// fnopt build writes of the same dist/bootstrap.
func sameZipAsFnopt(t *testing.T, distDir string) {
	t.Helper()
	want := filepath.Join(t.TempDir(), "function.zip")
	if _, err := artifact.WriteZip(filepath.Join(distDir, "bootstrap"), want); err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(distDir, "function.zip"), want)
}

// sameBuildAsFnopt: `fnopt build` of the project (dist.Produce, for the
// architecture the Makefile built) writes the bootstrap and the zip that
// `make build` and `make zip` wrote.
func sameBuildAsFnopt(t *testing.T, dir string, o templates.Options) {
	t.Helper()
	out := t.TempDir()
	// Offline, as the Makefile's build ran (goEnv).
	env := []string{"GOFLAGS=-mod=readonly", "GOPROXY=off", "GOTOOLCHAIN=local", "GOWORK=off"}
	if _, err := dist.Produce(context.Background(), dir, dist.Options{Arch: settings.Arch(o.Arch), OutDir: out, Env: env}); err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(dir, "dist", "bootstrap"), filepath.Join(out, "bootstrap"))
	sameFile(t, filepath.Join(dir, "dist", "function.zip"), filepath.Join(out, dist.ZipName))
}

// samBuildTarget does what `sam build` does with BuildMethod: makefile
// (the next steps say `sam build && sam deploy`): it runs the Makefile's
// build-<LogicalID> target of template.yaml's function with ARTIFACTS_DIR
// set, which must leave the built bootstrap there, executable, for
// `sam deploy` to upload.
func samBuildTarget(t *testing.T, dir string, run func(t *testing.T, dir, name string, args ...string) string) {
	t.Helper()
	mk, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^(build-[A-Za-z0-9]+):`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("the Makefile has no build-<LogicalID> target")
	}
	tmpl, err := os.ReadFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(string(m[1]), "build-")
	if !regexp.MustCompile(`(?m)^  `+id+`:\n\s+Type: AWS::Serverless::Function`).Match(tmpl) || !strings.Contains(string(tmpl), "BuildMethod: makefile") {
		t.Fatalf("template.yaml has no function %s built by the Makefile", id)
	}
	artifacts := t.TempDir()
	run(t, dir, "make", string(m[1]), "ARTIFACTS_DIR="+artifacts)
	got := filepath.Join(artifacts, "bootstrap")
	fi, err := os.Stat(got)
	if err != nil {
		t.Fatalf("make %s left no bootstrap in ARTIFACTS_DIR: %v", m[1], err)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s is not executable: %v", got, fi.Mode())
	}
	want, _ := os.ReadFile(filepath.Join(dir, "dist", "bootstrap"))
	if b, _ := os.ReadFile(got); !bytes.Equal(b, want) {
		t.Errorf("make %s copied another file than dist/bootstrap", m[1])
	}
}
