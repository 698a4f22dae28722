//go:build unix

package build

import (
	"os/exec"
	"syscall"
)

// setProcessGroup runs cmd in its own process group and, when its context
// ends, kills the whole group: cargo and go start compilers of their own
// that must not outlive a cancelled build.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
