package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The GitHub Action and the release configuration name the same files:
// the Action downloads fnopt_<version>_<os>_<arch> and checksums.txt, the
// release writes them, and the release links the version into the
// variable internal/version reads. A rename on one side breaks every
// pinned workflow, so it breaks this test first.
func TestActionMatchesRelease(t *testing.T) {
	var rel struct {
		ProjectName string `yaml:"project_name"`
		Builds      []struct {
			Main    string   `yaml:"main"`
			Ldflags []string `yaml:"ldflags"`
			Goos    []string `yaml:"goos"`
			Goarch  []string `yaml:"goarch"`
		} `yaml:"builds"`
		Archives []struct {
			NameTemplate string `yaml:"name_template"`
		} `yaml:"archives"`
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
		} `yaml:"checksum"`
	}
	readYAML(t, "../../.goreleaser.yaml", &rel)
	if rel.ProjectName != "fnopt" || len(rel.Builds) != 1 || len(rel.Archives) != 1 {
		t.Fatalf("release configuration: %+v", rel)
	}
	b := rel.Builds[0]
	if b.Main != "./cmd/fnopt" || strings.Join(b.Goos, ",") != "linux,darwin,windows" || strings.Join(b.Goarch, ",") != "amd64,arm64" {
		t.Errorf("builds %s for %v × %v, want ./cmd/fnopt for linux, darwin, windows × amd64, arm64", b.Main, b.Goos, b.Goarch)
	}
	if ld := strings.Join(b.Ldflags, " "); !strings.Contains(ld, "-X github.com/fnopt/fnopt/internal/version.linked=") {
		t.Errorf("ldflags %q do not set internal/version's linked version", ld)
	}
	if got := rel.Archives[0].NameTemplate; got != "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}" {
		t.Errorf("archive name %q is not the one action.yml downloads", got)
	}
	if rel.Checksum.NameTemplate != "checksums.txt" {
		t.Errorf("checksums file %q is not the one action.yml downloads", rel.Checksum.NameTemplate)
	}

	action := readAction(t)
	var inputs []string
	for name := range action.Inputs {
		inputs = append(inputs, name)
	}
	// Inputs and outputs are a contract with every workflow using the
	// Action: kept, whatever else changes.
	for _, name := range []string{"working-directory", "samples", "max-samples", "strict", "max-regression", "min-delta", "max-size-growth", "against", "setup-go", "target", "aws-role", "aws-region"} {
		if _, ok := action.Inputs[name]; !ok {
			t.Errorf("action.yml lost its input %q (has %v)", name, inputs)
		}
	}
	if _, ok := action.Outputs["exit-code"]; !ok {
		t.Error("action.yml lost its output exit-code")
	}
	download := action.step(t, "Download fnopt").Run
	for _, want := range []string{`archive="fnopt_${RELEASE#v}_${OS}_${ARCH}.$ext"`, `"$url/checksums.txt"`, "releases/download/$RELEASE"} {
		if !strings.Contains(download, want) {
			t.Errorf("the download step lacks %s", want)
		}
	}
}

// The Action downloads a release only for a release tag, and for a
// runner a release has a binary for; any other ref builds from source.
func TestActionRelease(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	find := readAction(t).step(t, "Find fnopt's release").Run
	tests := []struct {
		ref, path, os, arch string
		want                string // the outputs, one a line
	}{
		{"v1.2.3", "", "Linux", "X64", "release=v1.2.3 os=linux arch=amd64"},
		{"v1.3.0-rc.1", "", "macOS", "ARM64", "release=v1.3.0-rc.1 os=darwin arch=arm64"},
		{"v2.0.0", "", "Windows", "X64", "release=v2.0.0 os=windows arch=amd64"},
		{"main", "", "Linux", "X64", "release= os=linux arch=amd64"},
		{"0123456789abcdef0123456789abcdef01234567", "", "Linux", "ARM64", "release= os=linux arch=arm64"},
		{"v1", "", "Linux", "X64", "release= os=linux arch=amd64"},
		{"v1.2.3", "", "Linux", "ARM", "release= os=linux arch="},
		// github.action_ref empty (actions/runner#2473): the checkout's folder.
		{"", "/runner/_actions/fnopt/fnopt/v1.4.0", "Linux", "X64", "release=v1.4.0 os=linux arch=amd64"},
		{"", "/runner/_actions/fnopt/fnopt/main", "Linux", "X64", "release= os=linux arch=amd64"},
	}
	for _, tt := range tests {
		t.Run(tt.ref+tt.path+" "+tt.os+"/"+tt.arch, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "output")
			cmd := exec.Command(bash, "-c", find)
			cmd.Env = append(os.Environ(), "ACTION_REF="+tt.ref, "GITHUB_ACTION_PATH="+tt.path,
				"RUNNER_OS="+tt.os, "RUNNER_ARCH="+tt.arch, "GITHUB_OUTPUT="+out)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, msg)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.Join(strings.Fields(string(got)), " "); g != tt.want {
				t.Errorf("outputs %q, want %q", g, tt.want)
			}
		})
	}
}

type actionFile struct {
	Inputs  map[string]any `yaml:"inputs"`
	Outputs map[string]any `yaml:"outputs"`
	Runs    struct {
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	Name string `yaml:"name"`
	Run  string `yaml:"run"`
}

func readAction(t *testing.T) *actionFile {
	t.Helper()
	var a actionFile
	readYAML(t, "../../action.yml", &a)
	return &a
}

// step is the step named name.
func (a *actionFile) step(t *testing.T, name string) actionStep {
	t.Helper()
	for _, s := range a.Runs.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("action.yml has no step %q", name)
	return actionStep{}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
