package buildcmd

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fnopt/fnopt/cmd/cmdutil"
)

// syncBuffer is a bytes.Buffer safe for the spinner's own goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressOnlyOnTerminalStderr(t *testing.T) {
	// A compiler that takes longer than progressDelay, whatever the
	// machine and the build cache.
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	slow := t.TempDir()
	script := "#!/bin/sh\nsleep 1\nexec " + realGo + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(slow, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", slow+string(os.PathListSeparator)+os.Getenv("PATH"))

	ios, _, out, _ := cmdutil.Test()
	errOut := &syncBuffer{}
	ios.ErrOut = errOut
	ios.SetTTY(false, false, true) // stdout piped (to jq), stderr a terminal
	cmd := NewCmd(ios)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs([]string{project(t, nil), "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "building hello for arm64") {
		t.Errorf("no progress on a terminal's stderr: %q", errOut.String())
	}
	// Standard output stays a clean JSON document.
	var r Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Schema != Schema {
		t.Errorf("stdout is not the report: %v\n%s", err, out.String())
	}
}
