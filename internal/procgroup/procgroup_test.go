package procgroup

import (
	"io"
	"os/exec"
	"runtime"
	"testing"
)

// TestKillEndsTheGroup starts a shell whose child holds the shell's
// output open, kills the group, and reads the output to its end: the end
// comes only once every process holding it is gone, the child included.
func TestKillEndsTheGroup(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows kills the process alone, and the script is for a Unix shell")
	}
	cmd := exec.Command("/bin/sh", "-c", "sleep 600 & echo started; wait")
	Set(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make([]byte, len("started\n"))
	if _, err := io.ReadFull(out, first); err != nil {
		t.Fatalf("reading the shell's first line: %v", err)
	}
	if err := Kill(cmd.Process); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if _, err := io.ReadAll(out); err != nil {
		t.Fatalf("reading to the end: %v", err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the shell exited cleanly after SIGKILL")
	}
}
