// Package sandbox runs a function from a flattened container image the way
// Lambda runs a container: its root file system read-only, a writable /tmp,
// as a non-root user, in new mount, PID, network, UTS and IPC namespaces,
// reaching nothing but a Runtime API listener the caller serves.
//
// Start re-executes the current binary (/proc/self/exe) as the sandbox's
// init, so every program using the package must call MaybeRunInit first
// thing in main (and in TestMain).
//
// Namespaces are Linux's: on other systems Supported and Start refuse with
// ErrUnsupported, in one line that says to run images on Linux.
package sandbox

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// ListenAddr is where the Runtime API listener lives inside the sandbox's
// network namespace; functions get AWS_LAMBDA_RUNTIME_API=ListenAddr.
const ListenAddr = "127.0.0.1:9001"

// The user functions run as: Lambda runs every function as a non-root
// user without capabilities (sbx_user1051), so an image that only works as
// root fails here as it would there.
const (
	FunctionUID = 993
	FunctionGID = 990
)

// Spec says what to run.
type Spec struct {
	// Root is the flattened image (see internal/oci/rootfs). It is mounted
	// read-only as "/" and never written.
	Root string
	// Argv is the entrypoint followed by the cmd, as Lambda resolves them.
	// A name without a slash is looked up in the PATH of Env inside Root.
	Argv []string
	// Env is the function's complete environment.
	Env []string
	// WorkDir is the working directory inside Root; "" means "/".
	WorkDir string
	// MemoryBytes, when > 0, is enforced through a cgroup v2 memory.max
	// where the machine allows it; Process.MemoryEnforced says whether it was.
	MemoryBytes int64
	// Trace runs the function under strace and records the paths it
	// touches (Process.Trace). Timing and memory figures of a traced run are
	// not representative.
	Trace bool
	// Stderr and Stdout receive the function's output; a nil Stdout goes
	// to Stderr, a nil Stderr is discarded.
	Stderr io.Writer
	Stdout io.Writer
}

// ErrUnsupported is wrapped by Start's error when the machine does not let
// us create the namespaces (not root, or forbidden by a container runtime).
var ErrUnsupported = errors.New("sandbox unsupported on this machine")

// ExitError is returned by Wait when the function did not exit with 0.
type ExitError struct {
	Code   int            // exit code, when it exited
	Signal syscall.Signal // signal that ended it, when it was killed
	Killed bool           // ended by Kill
	OOM    bool           // killed by the kernel for going over Spec.MemoryBytes
}

func (e *ExitError) Error() string {
	switch {
	case e.OOM:
		return "function killed: out of memory (over the sandbox's memory limit)"
	case e.Killed:
		return "function killed by the sandbox"
	case e.Signal != 0:
		return fmt.Sprintf("function killed by signal %s", e.Signal)
	}
	return fmt.Sprintf("function exited with status %d", e.Code)
}
