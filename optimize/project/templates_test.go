package project

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/templates"
)

// TestNewProjectsHaveNoFindings renders the projects `fnopt new` writes
// and checks that optimize finds nothing to change in them: the
// templates and the findings read the same tuned settings. A Rust
// project linked statically (--link static) says so in fnopt.yaml, which
// optimize reads: a choice, not a finding.
func TestNewProjectsHaveNoFindings(t *testing.T) {
	for _, lang := range []string{"go", "rust"} {
		links := []config.Link{""}
		if lang == "rust" {
			links = []config.Link{config.LinkDynamic, config.LinkStatic}
		}
		for _, client := range []string{"official", "minimal"} {
			for _, event := range []string{"raw", "http"} {
				for _, link := range links {
					name := strings.TrimSuffix(lang+"-"+client+"-"+event+"-"+string(link), "-")
					t.Run(name, func(t *testing.T) {
						files, err := templates.Render(templates.Options{Name: "hello", Lang: config.Language(lang), Event: event, Arch: "arm64", Package: "zip", Client: config.Client(client), Link: link})
						if err != nil {
							t.Fatal(err)
						}
						dir := t.TempDir()
						if err := templates.Write(context.Background(), dir, files); err != nil {
							t.Fatal(err)
						}
						plan, err := Analyze(dir)
						if err != nil {
							t.Fatal(err)
						}
						if len(plan.Findings) > 0 {
							var ids []string
							for _, f := range plan.Findings {
								ids = append(ids, f.ID+" at "+f.Evidence[0].String())
							}
							t.Errorf("findings in a new project: %s", strings.Join(ids, "; "))
						}
						if len(plan.Project.Build) == 0 {
							t.Error("no build file detected")
						}
					})
				}
			}
		}
	}
}

// TestNewX86ProjectsOnlyMissArm64: a project made with --arch x86_64 has
// exactly one finding, the architecture; Go's build is edited with the
// template, Rust's chooses its target through make variables and is left
// to do by hand rather than half-changed.
func TestNewX86ProjectsOnlyMissArm64(t *testing.T) {
	for lang, applicable := range map[string]bool{"go": true, "rust": false} {
		t.Run(lang, func(t *testing.T) {
			files, err := templates.Render(templates.Options{Name: "hello", Lang: config.Language(lang), Event: "raw", Arch: "x86_64", Package: "zip", Client: "official"})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for _, f := range files {
				p := filepath.Join(dir, filepath.FromSlash(f.Path))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, f.Data, f.Mode.Perm()|0o600); err != nil {
					t.Fatal(err)
				}
			}
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Findings) != 1 || plan.Findings[0].ID != "arch-arm64" || plan.Findings[0].Applicable() != applicable {
				t.Fatalf("findings %+v, want arch-arm64 (applicable %v)", plan.Findings, applicable)
			}
		})
	}
}
