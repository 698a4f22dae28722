//go:build !unix

package build

import "os/exec"

// stopGently only bounds the wait where process groups do not exist: the
// context kills the compiler itself, and Wait stops waiting for its
// output after GracePeriod.
func stopGently(cmd *exec.Cmd) (killRest func()) {
	cmd.WaitDelay = GracePeriod
	return func() {}
}
