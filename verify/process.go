//go:build linux

// The host starter on Linux; process_other.go is the other systems'.

package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Start starts the bootstrap.
func (h *HostStarter) Start(ctx context.Context, spec StartSpec) (Process, error) {
	ln := spec.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listening for the function: %w", err)
		}
	}
	env := append(append([]string(nil), spec.Env...), "AWS_LAMBDA_RUNTIME_API="+ln.Addr().String())
	p := &hostProcess{ln: ln}
	// The output pipe is made here rather than by os/exec, so that its
	// making is not counted in init; and it is made first, with its
	// copier, and Start waits until the copier runs. Starting a goroutine
	// wakes another thread of fnopt, which on a small (virtual) machine
	// gets a CPU tens of µs later: if that is during the exec, the
	// function is placed on a busy CPU or migrated away from it at exec
	// (seen in sched traces; up to +50 µs on a 0.2 ms init).
	// Making the cgroup below leaves that thread time to settle.
	var pr, pw *os.File
	if spec.Output != nil {
		var err error
		if pr, pw, err = os.Pipe(); err != nil {
			ln.Close()
			return nil, fmt.Errorf("creating the function's output pipe: %w", err)
		}
		defer pw.Close() // the child has its own copy
		p.output, p.copied = pr, make(chan struct{})
		running := make(chan struct{})
		go func() {
			close(running)
			_, _ = io.Copy(spec.Output, pr)
			close(p.copied)
		}()
		<-running
	}
	// Children the function leaves behind are orphaned when it is killed;
	// as a subreaper fnopt inherits and reaps them (release), instead of
	// leaving zombies to an init that may not reap (containers, VMs).
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	if h.Cgroups != nil && spec.MemoryBytes > 0 {
		cg, err := h.Cgroups.New(spec.MemoryBytes)
		if err != nil {
			p.memoryReason = err.Error()
		} else {
			p.cg = cg
		}
	}
	pidfd := -1
	p.contained = h.containRefused() == ""
	start := func() error {
		pidfd = -1
		p.cmd = h.command(env, pw, &pidfd, p.cg, p.contained)
		p.started = time.Now()
		return p.cmd.Start()
	}
	err := start()
	if err != nil && p.contained && namespaceRefused(err) {
		// Not root and no user namespaces for this user, or a container
		// that forbids them: the function runs in its process group only
		// (and its cgroup, when there is one), and each sample says so.
		// The cgroup below can be refused with the same errors, so the
		// namespace is blamed only when the start succeeds without it.
		nsErr := err
		p.contained = false
		if err = start(); err == nil {
			h.refuseContain(nsErr)
		} else {
			p.contained = true
		}
	}
	if err != nil && p.cg != nil {
		// Some machines refuse to start a process straight into a new
		// cgroup (clone3 with CLONE_INTO_CGROUP); measure without the
		// limit rather than blame the function.
		p.memoryReason = "starting in the cgroup: " + err.Error()
		_ = p.cg.Remove()
		p.cg = nil
		err = start()
		if err != nil && p.contained && namespaceRefused(err) {
			h.refuseContain(err)
			p.contained = false
			err = start()
		}
	}
	if !p.contained {
		p.containNote = uncontainedNote(h.containRefused())
	}
	if err != nil {
		ln.Close()
		if pr != nil {
			pr.Close()
		}
		return nil, fmt.Errorf("starting %s: %w", h.Bootstrap, err)
	}
	if pidfd >= 0 {
		if err := unix.SetNonblock(pidfd, true); err == nil {
			p.pidfd = os.NewFile(uintptr(pidfd), "pidfd")
		} else {
			unix.Close(pidfd)
		}
	}
	return p, nil
}

// command is the bootstrap's exec.Cmd: its own process group, the given
// environment only, the task root as working directory, output to out
// (nil: /dev/null), its pidfd stored in *pidfd, born in cg when not nil,
// and, when contain is set, as PID 1 of a PID namespace of its own
// (setContain).
func (h *HostStarter) command(env []string, out *os.File, pidfd *int, cg *Cgroup, contain bool) *exec.Cmd {
	cmd := exec.Command(h.Bootstrap, h.Args...)
	cmd.Dir = h.Dir
	cmd.Env = env
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If fnopt dies, its functions die with it.
		Pdeathsig: syscall.SIGKILL,
		// Wait watches this pidfd through the netpoller.
		PidFD: pidfd,
	}
	if contain {
		setContain(cmd.SysProcAttr)
	}
	if cg != nil {
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = cg.FD()
	}
	return cmd
}

type hostProcess struct {
	ln      net.Listener
	cmd     *exec.Cmd
	cg      *Cgroup
	started time.Time
	maxRSS  int64
	pidfd   *os.File      // the process's pidfd, or nil where pidfds do not work
	output  *os.File      // read end of the output pipe, or nil
	copied  chan struct{} // closed when the output has been copied
	// memoryReason says why the memory limit is not enforced when a
	// cgroup was asked for and could not be used.
	memoryReason string
	// contained is set when the bootstrap is PID 1 of its own PID
	// namespace: everything it starts ends when it does. containNote says
	// why not otherwise.
	contained   bool
	containNote string
}

func (p *hostProcess) Listener() net.Listener { return p.ln }
func (p *hostProcess) Started() time.Time     { return p.started }
func (p *hostProcess) Notes() []string {
	if p.containNote != "" {
		return []string{p.containNote}
	}
	return nil
}
func (p *hostProcess) MaxRSS() int64 { return p.maxRSS }

func (p *hostProcess) memoryLimit() (bool, string) { return p.cg != nil, p.memoryReason }

func (p *hostProcess) Wait() error {
	if p.pidfd != nil {
		p.awaitExit()
		defer p.pidfd.Close()
	}
	err := p.cmd.Wait()
	if p.output != nil {
		// The output ends when every process holding the pipe has ended.
		// Contained, they all have (the kernel ends a PID namespace with
		// its first process, and the bootstrap is reaped only once every
		// process in it is gone); otherwise a child that escaped the
		// process group must not block Wait.
		select {
		case <-p.copied:
		case <-time.After(time.Second):
		}
		p.output.Close()
		<-p.copied
	}
	if p.cg != nil && p.cg.OOMKilled() {
		err = fmt.Errorf("%w (killed by the %d MB memory limit)", err, p.cg.Limit()>>20)
	}
	return err
}

// awaitExit parks until the process has exited, through the netpoller.
// A goroutine blocked in wait4 or waitid holds an OS thread, and handing
// its P to another thread while the function starts measurably slows fast
// starts on small machines (BenchmarkHarness: about +20% of a 0.2 ms
// init). When the pidfd cannot be polled, Wait simply blocks.
func (p *hostProcess) awaitExit() {
	rc, err := p.pidfd.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		// WNOWAIT: only look; exec.Cmd.Wait reaps.
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		return err != nil || info.Signo != 0
	})
}

// Kill ends the function and everything it started: contained, the
// processes it started are first asked to stop (SIGTERM) and given a
// moment to clean up, then the bootstrap is killed, and with it its whole
// PID namespace; otherwise the whole process group is killed, and with a
// cgroup everything in it, including children that left the group. The
// bootstrap itself gets SIGKILL at once, as Lambda ends a custom runtime.
// Kill does not reap: Wait does.
func (p *hostProcess) Kill() error {
	// Peak RSS is read from the live process: wait4's ru_maxrss cannot be
	// used, because exec records the high-water mark of the memory the
	// child shared with fnopt before it (os/exec starts children with
	// vfork), so every function would seem to use at least fnopt's RSS.
	p.RecordPeak()
	if p.contained {
		stopGently(p.cmd.Process.Pid, stopGrace)
	}
	var errs []error
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		errs = append(errs, fmt.Errorf("killing process group %d: %w", p.cmd.Process.Pid, err))
	}
	if p.cg != nil {
		if err := p.cg.Kill(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RecordPeak reads the peak RSS while the process lives: Session.Stop
// asks before it closes the emulator, because a function whose request
// for work then fails may exit before Kill could read it (the peak only
// grows, so a later read that fails keeps this one).
func (p *hostProcess) RecordPeak() {
	if hwm := readVmHWM(p.cmd.Process.Pid); hwm > p.maxRSS {
		p.maxRSS = hwm
	}
}

// readVmHWM is a live process's peak resident set size (VmHWM in
// /proc/PID/status), in bytes; 0 when it cannot be read.
func readVmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// release reaps what is left of the killed process group and removes the
// cgroup, once the bootstrap itself has been reaped.
func (p *hostProcess) release() error {
	var errs []error
	pgid := p.cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-pgid, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.ECHILD) {
			break // no child of ours is left in the group
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			errs = append(errs, fmt.Errorf("reaping process group %d: %w", pgid, err))
			break
		}
		if pid > 0 {
			continue
		}
		if time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("processes of group %d did not exit 5 s after SIGKILL", pgid))
			break
		}
		time.Sleep(time.Millisecond)
	}
	if p.cg != nil {
		errs = append(errs, p.cg.Remove())
	}
	return errors.Join(errs...)
}

var _ releaser = (*hostProcess)(nil)
