//go:build !unix

package procgroup

import (
	"os"
	"os/exec"
)

// Set leaves cmd as it is: this system has no process groups a kill
// reaches.
func Set(*exec.Cmd) {}

// Kill kills p alone (see Set).
func Kill(p *os.Process) error { return p.Kill() }
