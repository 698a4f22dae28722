package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

// An interrupted build leaves nothing in the temporary folder: the go
// command removes its go-build* work folder only when it finishes, so the
// build gives it a folder of its own and removes it (issue 12, item 7).
// The build is cancelled once the go command has made its work folder and
// started compiling in it (an empty build cache makes it compile the
// standard library, long enough to be caught), a few times over.
func TestInterruptedBuildLeavesNoTemporaryFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles part of the standard library")
	}
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{"go.mod": goMod, "main.go": goFunction})
	for run := range 3 {
		tmp := t.TempDir()
		opts := Options{OutDir: t.TempDir(), Env: []string{"TMPDIR=" + tmp, "GOCACHE=" + t.TempDir()}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := Build(ctx, dir, goConfig(settings.ARM64), opts)
			done <- err
		}()
		var err error
		select {
		case <-compiling(ctx, tmp):
			cancel()
			err = waitBuild(t, done)
		case err = <-done:
			cancel()
			t.Fatalf("run %d: the build ended before it could be interrupted: %v", run, err)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("run %d: err = %v, want context.Canceled", run, err)
		}
		if left := leftIn(t, tmp); len(left) > 0 {
			t.Errorf("run %d: left in TMPDIR: %s", run, strings.Join(left, ", "))
		}
	}
}

// compiling is closed once a go-build* work folder under tmp (or in a
// folder of its own there) holds something: the go command has started
// compiling. It stops looking when ctx ends.
func compiling(ctx context.Context, tmp string) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		for ctx.Err() == nil {
			inOwn, _ := filepath.Glob(filepath.Join(tmp, "*", "go-build*", "*"))
			direct, _ := filepath.Glob(filepath.Join(tmp, "go-build*", "*"))
			if len(inOwn)+len(direct) > 0 {
				close(c)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return c
}

// waitBuild returns the build's error, failing the test when the build
// has not returned two minutes after it was cancelled (a hang).
func waitBuild(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatal("the cancelled build has not returned after two minutes")
		return nil
	}
}

// leftIn lists what is under tmp.
func leftIn(t *testing.T, tmp string) []string {
	t.Helper()
	var left []string
	err := filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != tmp {
			rel, _ := filepath.Rel(tmp, p)
			left = append(left, rel)
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return left
}

// A cancelled compiler is stopped gently: its process group gets SIGINT
// and may clean up; what ignores it is killed after GracePeriod, the
// compiler's own children included.
func TestCancelledCompilerStopsGently(t *testing.T) {
	if testing.Short() {
		t.Skip("waits GracePeriod for a process that ignores SIGINT")
	}
	tests := []struct {
		name string
		// script runs as the compiler; it writes $READY once it runs and
		// $CHILD with the pid of a child of its own, when it starts one.
		script  string
		cleaned bool // writes $MARK on SIGINT
	}{
		{"cleans up on SIGINT", `trap 'echo cleaned > "$MARK"; exit 1' INT; echo > "$READY"; while :; do sleep 0.05; done`, true},
		{"ignores SIGINT, and so does its child", `trap '' INT; (trap '' INT; exec sleep 1000) & echo $! > "$CHILD"; echo > "$READY"; wait`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ready, mark, child := filepath.Join(dir, "ready"), filepath.Join(dir, "mark"), filepath.Join(dir, "child")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cmd := exec.CommandContext(ctx, "sh", "-c", tt.script)
			cmd.Env = append(os.Environ(), "READY="+ready, "MARK="+mark, "CHILD="+child, "TMPDIR="+dir)
			done := make(chan error, 1)
			go func() { done <- RunCompiler(cmd) }()
			waitFor(t, ready)
			cancel()
			if err := waitBuild(t, done); err == nil {
				t.Fatal("a cancelled compiler returned no error")
			}
			if _, err := os.Stat(mark); (err == nil) != tt.cleaned {
				t.Errorf("cleaned up: %v, want %v", err == nil, tt.cleaned)
			}
			if b, err := os.ReadFile(child); err == nil {
				pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
				if running(pid) {
					t.Errorf("the compiler's child %d still runs", pid)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "fnopt-build-*")); len(left) > 0 {
				t.Errorf("left: %v", left)
			}
		})
	}
}

// waitFor waits until the file exists (a minute at most).
func waitFor(t *testing.T, file string) {
	t.Helper()
	for range 6000 {
		if _, err := os.Stat(file); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", file)
}

// running reports whether pid is a live process (a zombie waiting for a
// parent that does not reap is not), after giving SIGKILL a moment.
func running(pid int) bool {
	for range 100 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		// The state follows the command name in parentheses.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
