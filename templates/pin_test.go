package templates_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/version"
	"github.com/fnopt/fnopt/templates"
)

// The workflow of a new project runs the gate with the fnopt that wrote
// the project: a release pins its tag, a development build its commit,
// and a build that knows neither follows main and says why in a comment.
func TestWorkflowPinsTheFnoptThatWroteIt(t *testing.T) {
	const commit = "dedc747f3b2c4a1e9d8c7b6a5f4e3d2c1b0a9f8e"
	tests := []struct {
		name    string
		fnopt   version.Info
		uses    string
		comment string // "" when there must be none
	}{
		{"release", version.Info{Version: "v1.4.0"}, "fnopt/fnopt@v1.4.0", ""},
		{"release candidate", version.Info{Version: "v1.5.0-rc.1", Revision: commit}, "fnopt/fnopt@v1.5.0-rc.1", ""},
		{"development build of a commit", version.Info{Version: version.Devel, Revision: commit, Modified: true}, "fnopt/fnopt@" + commit, "pinned to its commit"},
		{"go install of a commit", version.Info{Version: "v0.0.0-20261202020000-dedc747f3b2c"}, "fnopt/fnopt@main", "does not know its commit"},
		{"development build of unknown commit", version.Info{Version: version.Devel}, "fnopt/fnopt@main", "does not know its commit"},
	}
	for _, tt := range tests {
		for _, lang := range []string{"go", "rust"} {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				o := templates.Options{Name: "pinned", Lang: config.Language(lang), Event: "raw", Arch: "arm64", Package: "zip", Client: "minimal", Fnopt: tt.fnopt}
				wf := string(files(t, o)[".github/workflows/ci.yml"].Data)
				var doc struct {
					Jobs map[string]struct {
						Steps []struct {
							Uses string `yaml:"uses"`
						} `yaml:"steps"`
					} `yaml:"jobs"`
				}
				if err := yaml.Unmarshal([]byte(wf), &doc); err != nil {
					t.Fatalf("ci.yml: %v\n%s", err, wf)
				}
				var uses []string
				for _, s := range doc.Jobs["gate"].Steps {
					if strings.HasPrefix(s.Uses, "fnopt/fnopt@") {
						uses = append(uses, s.Uses)
					}
				}
				if len(uses) != 1 || uses[0] != tt.uses {
					t.Errorf("the gate uses %q, want %q", uses, tt.uses)
				}
				line := "- uses: " + tt.uses
				i := strings.Index(wf, line)
				if i < 0 {
					t.Fatalf("no line %q in:\n%s", line, wf)
				}
				before := strings.Split(strings.TrimRight(wf[:i], " "), "\n")
				above := strings.TrimSpace(before[len(before)-2])
				hasComment := strings.HasPrefix(above, "#")
				switch {
				case tt.comment == "" && hasComment:
					t.Errorf("a release pin has a comment above it: %q", above)
				case tt.comment != "" && !strings.Contains(above, tt.comment):
					t.Errorf("the line above the pin is %q, want a comment saying %q", above, tt.comment)
				}
			})
		}
	}
}
