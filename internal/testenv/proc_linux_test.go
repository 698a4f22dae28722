package testenv

import (
	"os"
	"strings"
	"testing"
)

// The test process finds itself as /proc shows it: its parent, a running
// state and its own command line and folder.
func TestProcessesFindsItself(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range Processes(t) {
		if p.PID != os.Getpid() {
			continue
		}
		if p.PPID != os.Getppid() || p.State == 'Z' || !strings.HasPrefix(p.Cmdline, os.Args[0]) || p.Cwd != wd {
			t.Errorf("got %+v, want parent %d, alive, command line %q…, folder %s", p, os.Getppid(), os.Args[0], wd)
		}
		return
	}
	t.Errorf("this process (%d) is not listed", os.Getpid())
}
