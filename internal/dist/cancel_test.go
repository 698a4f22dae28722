package dist

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Cancelling during the compile (Ctrl-C in fnopt build) ends Produce
// with the context's error and removes the staging folder.
func TestProduceCancelledWhileCompiling(t *testing.T) {
	dir := project(t, nil)
	// A "go" that stands for a long compile and says when it has started.
	fake := t.TempDir()
	started := filepath.Join(t.TempDir(), "started")
	script := "#!/bin/sh\necho > " + started + "\nexec sleep 60\n"
	writeFile(t, filepath.Join(fake, "go"), script)
	if err := os.Chmod(filepath.Join(fake, "go"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake+string(os.PathListSeparator)+os.Getenv("PATH"))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := os.Stat(started); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	begin := time.Now()
	_, err := Produce(ctx, dir, Options{})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "go build interrupted") {
		t.Fatalf("Produce = %v, want the build interrupted", err)
	}
	if _, err := os.Stat(started); err != nil {
		t.Fatal("the fake compiler never ran")
	}
	if d := time.Since(begin); d > 30*time.Second {
		t.Errorf("Produce took %v: the compiler was not stopped", d)
	}
	if got := names(t, filepath.Join(dir, "dist")); got != "" {
		t.Errorf("dist holds %s after a cancelled build", got)
	}
}
