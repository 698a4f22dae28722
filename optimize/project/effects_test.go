package project

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/bytesize"
)

// TestEffectsAreOfThisProject: the expected effect of every finding is
// said of the project analysed: no figure measured on another project, no
// Go in a Rust project's plan, and where the project holds a built binary,
// the bytes -s -w would remove from it, read from its own sections.
func TestEffectsAreOfThisProject(t *testing.T) {
	samGo := "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: provided.al2023\n      Handler: bootstrap\n      Architectures: [x86_64]\n"
	tests := []struct {
		name  string
		dir   string            // an example, or "" for files
		files map[string]string // a project of its own
		built string            // a plain go build is written here first
		want  map[string]string // finding → text its effect must have
		never []string          // in no effect
	}{
		{name: "go", files: map[string]string{"go.mod": goMod, "main.go": "package main\n\nfunc main() {}\n", "template.yaml": samGo,
			"Makefile": "build:\n\tGOARCH=amd64 go build -o bin/bootstrap .\n"},
			want:  map[string]string{"go-ldflags": "without its symbol table and DWARF", "go-tags-norpc": measuredHere, "arch-arm64": "the Go binary"},
			never: []string{"legacy-go-sam", "12.1"}},
		{name: "go with a built binary", files: map[string]string{"go.mod": "module example.com/fn\n\ngo 1.22\n", "main.go": "package main\n\nfunc main() {}\n",
			"Makefile": "build:\n\tGOARCH=arm64 go build -o bin/bootstrap .\n"}, built: "bin/bootstrap",
			never: []string{"legacy-go-sam", "12.1"}},
		{name: "rust static", files: map[string]string{"Cargo.toml": rustCargo, "src/main.rs": "fn main() {}\n",
			"build.sh": "#!/bin/sh\nRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n"},
			want:  map[string]string{"rust-static-glibc": "a bootstrap about 0.9 MB smaller"},
			never: []string{"Go", "legacy-go-sam"}},
		{name: "rust", dir: "../../examples/legacy-rust",
			want:  map[string]string{"arch-arm64": "lower compute cost"},
			never: []string{"Go", "legacy-go-sam"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			if dir == "" {
				dir = write(t, tt.files)
			}
			if tt.built != "" {
				cmd := exec.Command("go", "build", "-o", filepath.Join(dir, tt.built), ".")
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				tt.want = map[string]string{"go-ldflags": strippedText(t, filepath.Join(dir, tt.built), tt.built)}
			}
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, f := range plan.Findings {
				seen[f.ID] = true
				if w, ok := tt.want[f.ID]; ok && !strings.Contains(f.Effect, w) {
					t.Errorf("%s: effect %q lacks %q", f.ID, f.Effect, w)
				}
				for _, n := range tt.never {
					if strings.Contains(f.Effect, n) {
						t.Errorf("%s: effect %q says %q", f.ID, f.Effect, n)
					}
				}
			}
			for id := range tt.want {
				if !seen[id] {
					t.Errorf("no finding %s in %+v", id, plan.Findings)
				}
			}
		})
	}
}

// strippedText is what the effect must say of the binary at path: the
// bytes of its DWARF, symbol table and symbol names, of its size.
func strippedText(t *testing.T, path, rel string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var strip int64
	for _, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") || s.Name == ".symtab" || s.Name == ".strtab" {
			strip += int64(s.Size)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return "the symbol table and DWARF are " + bytesize.Format(strip) + " of the " + bytesize.Format(st.Size()) + " of " + rel
}
