package templates_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/templates"
)

// combinations is every lang × event × client × arch × package.
func combinations() []templates.Options {
	var out []templates.Options
	for _, lang := range templates.Choices["lang"] {
		for _, event := range templates.Choices["event"] {
			for _, client := range templates.Choices["client"] {
				for _, arch := range templates.Choices["arch"] {
					for _, pkg := range templates.Choices["package"] {
						o := templates.Options{
							Name: "fn-" + event, Lang: config.Language(lang), Event: event, Arch: settings.Arch(arch),
							Package: config.Packaging(pkg), Client: config.Client(client),
						}
						out = append(out, o)
						if o.Lang == config.Rust {
							o.Link = config.LinkStatic // the default (dynamic) is the one above
							out = append(out, o)
						}
					}
				}
			}
		}
	}
	return out
}

// files renders o into a map of path to content.
func files(t testing.TB, o templates.Options) map[string]templates.File {
	t.Helper()
	fs, err := templates.Render(o)
	if err != nil {
		t.Fatalf("Render(%+v): %v", o, err)
	}
	m := map[string]templates.File{}
	for _, f := range fs {
		m[f.Path] = f
	}
	return m
}

// writeProject renders o into dir (which must not exist yet).
func writeProject(t testing.TB, dir string, o templates.Options) {
	t.Helper()
	fs, err := templates.Render(o)
	if err != nil {
		t.Fatalf("Render(%+v): %v", o, err)
	}
	if err := templates.Write(t.Context(), dir, fs); err != nil {
		t.Fatal(err)
	}
}

// readRepoFile reads a file at the repository's root.
func readRepoFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", name))
}
