//go:build unix

package build

import (
	"os/exec"
	"syscall"

	"github.com/fnopt/fnopt/internal/procgroup"
)

// stopGently runs cmd in its own process group (cargo and go start
// compilers and linkers of their own) and, when its context ends, stops
// the group as Ctrl-C in a terminal does: SIGINT to every process of it,
// so that each can clean up. A group still running after GracePeriod is
// killed: Wait kills the command itself and stops waiting for its output,
// and the function returned, called once Wait has returned, kills what is
// left of the group.
func stopGently(cmd *exec.Cmd) (killRest func()) {
	procgroup.Set(cmd)
	cancelled := false
	cmd.Cancel = func() error {
		cancelled = true
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	}
	cmd.WaitDelay = GracePeriod
	return func() {
		// Only after a cancel: a group whose leader was reaped can still
		// hold processes, and while it does its id is not reused.
		if cancelled {
			procgroup.Kill(cmd.Process)
		}
	}
}
