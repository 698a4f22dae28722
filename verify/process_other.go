//go:build !linux

package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/fnopt/fnopt/internal/procgroup"
)

// On systems other than Linux the bootstrap is a plain child process:
// there is no cgroup (Cgroups is never usable), no pidfd, no subreaper and
// no parent-death signal, and its peak RSS, which Linux reads from /proc,
// is not measured. Where the system has process groups the function gets
// its own, so Kill still ends what it started (internal/procgroup).

// rssNote says why MaxRSS is 0 here.
const rssNote = "peak RSS not measured: fnopt reads it from /proc, on Linux"

// Start starts the bootstrap.
func (h *HostStarter) Start(ctx context.Context, spec StartSpec) (Process, error) {
	ln := spec.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listening for the function: %w", err)
		}
	}
	cmd := exec.Command(h.Bootstrap, h.Args...)
	cmd.Dir = h.Dir
	cmd.Env = append(append([]string(nil), spec.Env...), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	if spec.Output != nil {
		// One writer for both: os/exec then copies them with one
		// goroutine, so writes never interleave mid-line.
		cmd.Stdout, cmd.Stderr = spec.Output, spec.Output
	}
	// A child the function left behind may hold the output open; Wait
	// stops waiting for it after a second.
	cmd.WaitDelay = time.Second
	procgroup.Set(cmd)
	p := &hostProcess{ln: ln, cmd: cmd}
	if h.Cgroups != nil && spec.MemoryBytes > 0 {
		p.memoryReason = h.Cgroups.Unavailable()
	}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("starting %s: %w", h.Bootstrap, err)
	}
	return p, nil
}

type hostProcess struct {
	ln      net.Listener
	cmd     *exec.Cmd
	started time.Time
	// memoryReason says why the memory limit asked for is not enforced.
	memoryReason string
}

func (p *hostProcess) Listener() net.Listener { return p.ln }
func (p *hostProcess) Started() time.Time     { return p.started }
func (p *hostProcess) Notes() []string        { return []string{rssNote} }
func (p *hostProcess) MaxRSS() int64          { return 0 }

func (p *hostProcess) memoryLimit() (bool, string) { return false, p.memoryReason }

func (p *hostProcess) Wait() error { return p.cmd.Wait() }

// Kill ends the function and, where the system has process groups,
// everything it started. It does not reap: Wait does.
func (p *hostProcess) Kill() error {
	if err := procgroup.Kill(p.cmd.Process); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing %s (process %d): %w", p.cmd.Path, p.cmd.Process.Pid, err)
	}
	return nil
}
