package examples_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/atomicfile"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/templates"
)

// TestExamplesMatchTemplates renders each example again from its
// fnopt.yaml and checks that the committed files are what `fnopt new`
// writes today, except the files listed as edited by hand. When a template
// changes on purpose, `go test ./examples -run Templates -update` brings
// the examples along (and the diff shows what users' new projects get).
func TestExamplesMatchTemplates(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.dir, func(t *testing.T) {
			dir := mustAbs(t, ex.dir)
			cfg, err := config.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			opts := templates.Options{
				Name: cfg.Name, Lang: cfg.Language, Event: cfg.Event, Arch: cfg.Arch,
				Package: cfg.Package, Client: cfg.Client, Module: goModule(t, dir),
			}
			files, err := templates.Render(opts)
			if err != nil {
				t.Fatalf("rendering %+v: %v", opts, err)
			}
			rendered := map[string]bool{}
			for _, f := range files {
				rendered[f.Path] = true
				if _, ok := ex.edited[f.Path]; ok {
					continue
				}
				path := filepath.Join(dir, filepath.FromSlash(f.Path))
				got, err := os.ReadFile(path)
				if err == nil && bytes.Equal(got, f.Data) {
					continue
				}
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := atomicfile.WriteFile(path, f.Data, f.Mode); err != nil {
						t.Fatal(err)
					}
					t.Logf("updated %s/%s", ex.dir, f.Path)
					continue
				}
				if err != nil {
					t.Errorf("%s/%s: the templates render it but it is missing (go test ./examples -run Templates -update)", ex.dir, f.Path)
					continue
				}
				t.Errorf("%s/%s differs from what the templates render (%s): run go test ./examples -run Templates -update, or list it as edited with the reason",
					ex.dir, f.Path, firstDiff(got, f.Data))
			}
			for p := range ex.edited {
				if !rendered[p] {
					t.Errorf("%s/%s is listed as edited but the templates do not render it", ex.dir, p)
				}
			}
			// Files the templates no longer render would mislead a reader.
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					if d != nil && d.IsDir() && (d.Name() == "target" || d.Name() == "dist") {
						return fs.SkipDir // build output of a developer's make build
					}
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				rel = filepath.ToSlash(rel)
				if !rendered[rel] && rel != "Cargo.lock" {
					t.Errorf("%s/%s is not rendered by the templates: remove it or add it to the templates", ex.dir, rel)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// goModule is the module path of a Go example ("" for Rust): the
// templates default it to the name, which is what the examples use.
func goModule(t *testing.T, dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(strings.TrimPrefix(first, "module"))
}

// firstDiff says where two texts first differ, for the error message.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d is %q, the templates give %q", i+1, gl, wl)
		}
	}
	return "same lines, different bytes"
}
