//go:build unix

package build

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// TestFindGoMainRefusesNamedPipe: a main.go that is a named pipe is
// refused by name instead of being opened, which blocked forever (and
// `fnopt optimize` with it, deaf to its first interrupt: the read cannot
// be cancelled).
func TestFindGoMainRefusesNamedPipe(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "main.go"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := FindGoMain(dir, settings.X86_64, &config.Config{Name: "x", Language: config.Go})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "main.go is not a regular file") {
			t.Errorf("FindGoMain = %v, want main.go refused as not a regular file", err)
		}
	case <-time.After(10 * time.Second):
		// The blocked open cannot be undone: unblock it by opening the
		// pipe's other end, then fail.
		if f, err := os.OpenFile(filepath.Join(dir, "main.go"), os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("FindGoMain blocked on the named pipe")
	}
}
