//go:build !unix

package build

import "os/exec"

// setProcessGroup is a no-op where process groups do not exist; the
// context still kills the compiler itself.
func setProcessGroup(*exec.Cmd) {}
