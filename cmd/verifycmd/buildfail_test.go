package verifycmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/testenv"
)

// TestVerifyShowsCompilerOutput: a project that does not compile fails
// verify (exit 2) with the compiler's own output above the one-line error
// that points at it, as fnopt build shows it, for Go and for Cargo.
func TestVerifyShowsCompilerOutput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   func(t testing.TB) []string
		tool  string
		want  string // in the compiler's output
	}{
		{
			name: "go",
			files: map[string]string{
				"go.mod":     "module example.com/broken\n\ngo 1.22\n",
				"main.go":    "package main\n\nfunc main() { notDefined() }\n",
				"fnopt.yaml": "name: broken\nlanguage: go\narch: x86_64\n",
			},
			tool: "go build", want: "undefined: notDefined",
		},
		{
			name: "cargo",
			files: map[string]string{
				"Cargo.toml":  "[package]\nname = \"bootstrap\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
				"src/main.rs": "fn main() { not_defined(); }\n",
				"fnopt.yaml":  "name: broken\nlanguage: rust\narch: x86_64\n",
			},
			env:  testenv.CargoEnv,
			tool: "cargo build", want: "cannot find function `not_defined`",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != nil {
				for _, kv := range tt.env(t) {
					k, v, _ := strings.Cut(kv, "=")
					t.Setenv(k, v)
				}
			}
			dir := t.TempDir()
			for name, data := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out, errOut, code := execute(t, dir, "--samples", "1")
			if code != 2 {
				t.Fatalf("exit %d, want 2:\n%s%s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "fnopt: ") || !strings.Contains(last, tt.tool+" failed") || !strings.Contains(last, "compiler output above") {
				t.Errorf("last line %q: want the one-line error pointing at the output", last)
			}
			if above := strings.Join(lines[:len(lines)-1], "\n"); !strings.Contains(above, tt.want) {
				t.Errorf("the compiler's output (%q) is not above the error:\n%s", tt.want, errOut)
			}
		})
	}
}
