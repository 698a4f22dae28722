package verify

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// Starter starts one fresh copy of a function. Host targets use
// HostStarter; image targets start inside a sandbox.
type Starter interface {
	Start(ctx context.Context, spec StartSpec) (Process, error)
}

// StartSpec is what every start shares. The starter adds
// AWS_LAMBDA_RUNTIME_API, since only it knows where the function can reach
// the emulator.
type StartSpec struct {
	// Env is the function's whole environment (see LambdaEnv).
	Env []string
	// FunctionEnv are the function's own variables (Function.Env), also
	// in Env: an image's starter applies them over the image's ENV.
	FunctionEnv []string
	// Output receives the function's standard output and error.
	Output io.Writer
	// MemoryBytes limits the function's memory where the starter can; 0
	// means no limit.
	MemoryBytes int64
	// Listener, when set, is where the emulator will be served; a host
	// starter uses it instead of a fresh port.
	Listener net.Listener
}

// Process is one running copy of a function.
type Process interface {
	// Listener is where the function reaches the Runtime API; the caller
	// serves the emulator on it and closes it.
	Listener() net.Listener
	// Started is the moment just before the function's exec.
	Started() time.Time
	// Wait waits for the process to end and reaps it; its error says how
	// it ended (exit status or signal).
	Wait() error
	// Kill ends the process and everything it started.
	Kill() error
	// MaxRSS is the function's peak resident set size in bytes, known
	// after Kill and Wait (0 when the process ended by itself).
	MaxRSS() int64
	// Notes say what the starter could not do as asked. This package's
	// processes report the memory limit typed instead (memoryLimiter), and
	// Measure turns it into Run.Memory and a note.
	Notes() []string
}

// HostStarter runs a bootstrap as a plain process on this machine: in its
// own process group (on Linux also as PID 1 of its own PID namespace, so
// that nothing it starts outlives it), with the given environment only,
// in the task root, reaching the emulator on a fresh 127.0.0.1 port.
type HostStarter struct {
	// Bootstrap is the executable; Argv[0] is set to it.
	Bootstrap string
	// Args follow Argv[0] (qemu runs the real bootstrap given here).
	Args []string
	// Dir is the working directory, the task root.
	Dir string
	// Cgroups limits memory and kills stragglers; when it cannot be used
	// each process says why (Run.Memory). Nil runs without a cgroup and
	// without a reason: the caller chose not to limit memory.
	Cgroups *Cgroups

	// refused is why this machine gave no PID namespace to a bootstrap
	// (Linux), once a start found out: later starts do not try again.
	refused atomic.Pointer[string]
	// uncontained starts bootstraps without a PID namespace, for
	// BenchmarkContainment, which measures what containment costs, and
	// for tests of what a function sees outside one.
	uncontained bool
}

func (h *HostStarter) takesListener() {}

// releaser is implemented by processes that hold resources past Wait.
type releaser interface{ release() error }
