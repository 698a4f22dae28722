//go:build unix

package project

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Named pipes (syscall.Mkfifo) exist only on Unix systems.

// TestBuildFileNotAFile: something with a build file's name that is not a
// regular file (template.yaml as a folder, a Makefile as a named pipe)
// cannot be read as part of the plan, so the plan is refused whole:
// nothing written, no read blocked on the pipe. Both used to be passed
// over, and the Makefile alone changed (a folder template.yaml) or the
// plan applied without it.
func TestBuildFileNotAFile(t *testing.T) {
	for _, tt := range []struct {
		name, file, kind string
		make             func(path string) error
		// findings: the other files still make a plan (it is what
		// would be applied half); without the Makefile there is none.
		findings bool
	}{
		{"template as a folder", "template.yaml", "a folder", func(p string) error { return os.Mkdir(p, 0o755) }, true},
		{"Makefile as a named pipe", "Makefile", "a named pipe", func(p string) error { return syscall.Mkfifo(p, 0o644) }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := fixture(t, "legacy-go-sam")
			p := filepath.Join(dir, tt.file)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := tt.make(p); err != nil {
				t.Fatal(err)
			}
			before := checksum(t, dir)
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			var fe *FileTypeError
			if !errors.As(plan.Refusal(), &fe) || fe.File != tt.file || fe.Kind != tt.kind {
				t.Fatalf("Refusal() = %v, want a FileTypeError for %s (%s)", plan.Refusal(), tt.file, tt.kind)
			}
			if tt.findings && len(plan.Applicable()) == 0 {
				t.Fatal("the plan has no applicable finding: the test proves nothing")
			}
			if files, err := Apply(plan, OSWriter{}); !errors.As(err, &fe) || len(files) != 0 {
				t.Fatalf("Apply = %v, %v; want nothing changed and a FileTypeError", files, err)
			}
			if msg := plan.Refusal().Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tt.file+" is "+tt.kind+", not a file") {
				t.Errorf("error %q: want one line naming the file and what it is", msg)
			}
			if checksum(t, dir) != before {
				t.Error("files changed")
			}
		})
	}
}

// TestCargoConfigNamedPipe: a .cargo/config.toml that is a named pipe is
// never opened (the read would block), and the plan is refused.
func TestCargoConfigNamedPipe(t *testing.T) {
	dir := write(t, rustProject(map[string]string{"build.sh": "#!/bin/sh\ncargo build --target aarch64-unknown-linux-gnu\n"}))
	if err := os.Mkdir(filepath.Join(dir, ".cargo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, ".cargo", "config.toml"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	var fe *FileTypeError
	if !errors.As(plan.Refusal(), &fe) || fe.File != ".cargo/config.toml" || fe.Kind != "a named pipe" {
		t.Fatalf("Refusal() = %v, want a FileTypeError for .cargo/config.toml (a named pipe)", plan.Refusal())
	}
}
