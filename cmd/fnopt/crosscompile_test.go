package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCrossCompile builds fnopt for the systems Lambda developers write
// code on, on every run: a Linux system call in a portable file fails here
// rather than on a user's Mac.
// Linux-only code lives in _linux.go files (or files constrained to
// Linux), with a one-line refusal for other systems.
func TestCrossCompile(t *testing.T) {
	platforms := []struct{ goos, goarch string }{
		{"darwin", "arm64"},
		{"darwin", "amd64"},
		{"windows", "amd64"},
	}
	for _, p := range platforms {
		t.Run(p.goos+"/"+p.goarch, func(t *testing.T) {
			env := append(os.Environ(), "GOOS="+p.goos, "GOARCH="+p.goarch, "CGO_ENABLED=0")
			bin := filepath.Join(t.TempDir(), "fnopt")
			goCommand(t, env, "build", "-o", bin, ".")
			if err := executableFor(bin, p.goos, p.goarch); err != nil {
				t.Errorf("the %s/%s build is not an executable of that system: %v", p.goos, p.goarch, err)
			}
		})
	}
}

// goCommand runs the go command with env and fails the test with its
// output when it fails.
func goCommand(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
}
