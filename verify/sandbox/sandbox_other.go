//go:build !linux

package sandbox

import (
	"context"
	"fmt"
	"net"
	"time"
)

// errNotLinux is what Start and Supported say on systems without Linux
// namespaces.
var errNotLinux = fmt.Errorf("%w: image targets run in Linux namespaces, which this system does not have: run fnopt on Linux for images", ErrUnsupported)

// Process is a running sandbox. Start never returns one on this system;
// the type has the fields and methods of the Linux one so that its users
// build everywhere.
type Process struct {
	Listener       net.Listener
	Started        time.Time
	Pid            int
	Rootless       bool
	MemoryEnforced bool
	MemoryNote     string
}

// MaybeRunInit returns at once: only Linux re-executes fnopt as a
// sandbox's init.
func MaybeRunInit() {}

// Supported says that this system cannot run sandboxes.
func Supported() error { return errNotLinux }

// Start refuses: see Supported.
func Start(context.Context, Spec) (*Process, error) { return nil, errNotLinux }

// Kill, Wait, MaxRSS and Trace have nothing to act on: Start never
// succeeds here.
func (p *Process) Kill() error         { return errNotLinux }
func (p *Process) Wait() error         { return errNotLinux }
func (p *Process) MaxRSS() int64       { return 0 }
func (p *Process) Trace() []FileAccess { return nil }
