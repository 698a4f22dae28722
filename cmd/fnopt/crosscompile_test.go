package main

import (
	"debug/macho"
	"debug/pe"
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
	platforms := []struct {
		goos, goarch string
		format       func(path string) error
	}{
		{"darwin", "arm64", isMachO},
		{"darwin", "amd64", isMachO},
		{"windows", "amd64", isPE},
	}
	for _, p := range platforms {
		t.Run(p.goos+"/"+p.goarch, func(t *testing.T) {
			env := append(os.Environ(), "GOOS="+p.goos, "GOARCH="+p.goarch, "CGO_ENABLED=0")
			bin := filepath.Join(t.TempDir(), "fnopt")
			goCommand(t, env, "build", "-o", bin, ".")
			if err := p.format(bin); err != nil {
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

func isMachO(path string) error {
	f, err := macho.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}

func isPE(path string) error {
	f, err := pe.Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}
