package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is a running sandbox.
type Process struct {
	// Listener accepts the function's connections to ListenAddr; serve the
	// Runtime API emulator on it. Wait closes it.
	Listener net.Listener
	// Started is the moment the function's exec completed (see docs/sandbox.md).
	Started time.Time
	// Pid is the host PID of the sandbox's init; killing it ends everything inside.
	Pid int
	// Rootless is set when fnopt is not root and the sandbox lives in a
	// user namespace: the function then runs as that namespace's uid 0
	// (the invoking user outside), without capabilities, instead of
	// Lambda's uid 993, and without the process-count limit.
	Rootless bool
	// MemoryEnforced says whether Spec.MemoryBytes is enforced; MemoryNote
	// says why not when it is not (a reason, e.g. "the cgroup v2 memory
	// controller is not available in ...", for "memory limit not enforced: ").
	MemoryEnforced bool
	MemoryNote     string

	cmd      *exec.Cmd
	conn     *net.UnixConn
	tmp      string
	cgroup   string
	trace    string
	workDir  string
	fnPid    int // host PID of the function (or of strace when tracing)
	waitOnce sync.Once
	waitErr  error // Wait's result
	initErr  error // the init's own exit, from exec.Cmd.Wait
	done     chan struct{}

	mu     sync.Mutex
	maxRSS int64 // peak RSS read before Kill, or from the exit message
	killed bool
	traced []FileAccess
}

// Start runs spec's function in a new sandbox and returns once it has been
// exec'd (or failed to be). The caller must call Wait, after Kill if the
// function does not end by itself.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	rootless, err := checkPrivileges(os.Geteuid(), readSysctl)
	if err != nil {
		return nil, err
	}
	cfg, err := newConfig(spec)
	if err != nil {
		return nil, err
	}
	cfg.Rootless = rootless
	p := &Process{done: make(chan struct{}), workDir: cfg.WorkDir, Rootless: rootless}
	ok := false
	defer func() {
		if !ok {
			p.abort()
		}
	}()
	if p.tmp, err = os.MkdirTemp("", "fnopt-sandbox-"); err != nil {
		return nil, fmt.Errorf("creating sandbox folder: %w", err)
	}
	cfg.Stage = filepath.Join(p.tmp, "mnt")
	if err := os.Mkdir(cfg.Stage, 0o700); err != nil {
		return nil, fmt.Errorf("creating sandbox folder: %w", err)
	}
	if spec.Trace {
		if cfg.Strace, err = exec.LookPath("strace"); err != nil {
			return nil, errors.New("sandbox: tracing needs strace: install it (Debian package strace, `make setup`)")
		}
		p.trace = filepath.Join(p.tmp, "trace")
		cfg.TraceFile = p.trace
	}

	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("creating sandbox control socket: %w", err)
	}
	child := os.NewFile(uintptr(fds[1]), "sandbox-init")
	defer child.Close()
	if p.conn, err = fileConn(fds[0]); err != nil {
		return nil, err
	}

	// If we die, the init sees its control socket close and exits,
	// taking everything in its namespaces with it.
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC,
	}
	if rootless {
		// Our own uid and gid become root of a new user namespace, which
		// owns the other namespaces; nothing else is mapped.
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	if spec.MemoryBytes > 0 {
		cg, err := newMemoryCgroup(spec.MemoryBytes)
		if err != nil {
			p.MemoryNote = err.Error()
		} else {
			defer cg.closeFD()
			p.cgroup, p.MemoryEnforced = cg.dir, true
			attr.UseCgroupFD, attr.CgroupFD = true, cg.fd
		}
	}
	stdout, stderr := spec.Stdout, spec.Stderr
	if stdout == nil {
		stdout = stderr
	}
	p.cmd = &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{"fnopt-sandbox-init"},
		Env:         []string{envInit + "=" + stageInit},
		Stdout:      stdout,
		Stderr:      stderr,
		ExtraFiles:  []*os.File{child},
		SysProcAttr: attr,
		// Output copying must not outlive the sandbox for long: once the
		// init is gone, nothing inside can still hold the pipes.
		WaitDelay: 2 * time.Second,
	}
	if err := p.cmd.Start(); err != nil {
		return nil, namespaceError(err, rootless)
	}
	p.Pid = p.cmd.Process.Pid
	go func() {
		p.initErr = p.cmd.Wait()
		close(p.done)
	}()
	child.Close()

	if err := p.handshake(ctx, cfg); err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

// handshake sends the configuration and waits for the listener and the
// start (or failure) report.
func (p *Process) handshake(ctx context.Context, cfg *config) error {
	b, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encoding sandbox configuration: %w", err)
	}
	if _, err := p.conn.Write(b); err != nil {
		return fmt.Errorf("configuring sandbox: %w", p.initGone(err))
	}
	stop := context.AfterFunc(ctx, func() { p.conn.SetReadDeadline(time.Now()) })
	defer stop()
	for {
		m, fd, err := readMessage(p.conn)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("starting sandbox: %w", ctx.Err())
			}
			return fmt.Errorf("starting sandbox: %w", p.initGone(err))
		}
		switch m.Kind {
		case msgListener:
			f := os.NewFile(uintptr(fd), "runtime-api-listener")
			p.Listener, err = net.FileListener(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("receiving the sandbox listener: %w", err)
			}
		case msgFailed:
			return fmt.Errorf("sandbox: %s", m.Error)
		case msgStarted:
			if p.Listener == nil {
				return errors.New("sandbox: init started the function before passing its listener")
			}
			var now unix.Timespec
			_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &now)
			p.Started = time.Now().Add(-time.Duration(now.Nano() - m.Mono))
			p.fnPid = childOf(p.Pid)
			return nil
		default:
			return fmt.Errorf("sandbox: unexpected message %q from init", m.Kind)
		}
	}
}

// initGone turns a broken control socket into the reason the init died.
func (p *Process) initGone(err error) error {
	select {
	case <-p.done:
		return fmt.Errorf("sandbox init exited early (%v)", p.initErr)
	case <-time.After(time.Second):
		return err
	}
}

// Kill ends the function and everything it started: killing a PID
// namespace's init kills every process in it. Its peak RSS is read first.
func (p *Process) Kill() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	p.mu.Lock()
	if rss := readHWM(p.fnPid); rss > 0 {
		p.maxRSS = rss
	}
	p.killed = true
	p.mu.Unlock()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing sandbox: %w", err)
	}
	return nil
}

// Wait waits until the sandbox is gone (every process in it reaped),
// closes the listener, removes the sandbox's temporary files and returns
// nil or an *ExitError. It may be called more than once.
func (p *Process) Wait() error {
	p.waitOnce.Do(func() {
		<-p.done
		p.waitErr = p.finish()
	})
	return p.waitErr
}

func (p *Process) finish() error {
	initErr := p.initErr
	var exit *message
	p.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	for {
		m, _, err := readMessage(p.conn)
		if err != nil {
			break
		}
		if m.Kind == msgExit {
			exit = m
		}
	}
	p.mu.Lock()
	killed := p.killed
	if exit != nil && p.maxRSS == 0 {
		p.maxRSS = exit.MaxRSS
	}
	p.mu.Unlock()
	oom := p.cgroup != "" && oomKilled(p.cgroup)
	var traceErr error
	if p.trace != "" {
		p.traced, traceErr = parseTraceFile(p.trace, p.workDir)
	}
	p.abort()
	switch {
	case exit != nil && exit.Signal == 0 && exit.Code == 0:
		return traceErr
	case exit != nil:
		return &ExitError{Code: exit.Code, Signal: syscall.Signal(exit.Signal), OOM: oom}
	case killed:
		return &ExitError{Killed: true, Signal: syscall.SIGKILL}
	}
	return fmt.Errorf("sandbox init ended without a report: %v", initErr)
}

// abort releases everything Start set up; the init, if running, is killed.
func (p *Process) abort() {
	if p.cmd != nil && p.cmd.Process != nil {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if p.Listener != nil {
		p.Listener.Close()
	}
	if p.conn != nil {
		p.conn.Close()
	}
	if p.cgroup != "" {
		_ = os.Remove(p.cgroup)
	}
	if p.tmp != "" {
		_ = os.RemoveAll(p.tmp)
	}
}

// MaxRSS returns the function's peak resident set size in bytes: read
// from /proc while it runs and just before Kill. For a function that
// exits by itself it is the kernel's rusage figure, which may include the
// sandbox init's own few megabytes (the exec'd process inherits its parent's
// high-water mark).
func (p *Process) MaxRSS() int64 {
	select {
	case <-p.done:
	default:
		if rss := readHWM(p.fnPid); rss > 0 {
			p.mu.Lock()
			p.maxRSS = max(p.maxRSS, rss)
			p.mu.Unlock()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxRSS
}

// Trace returns what the traced function touched, in order, once Wait
// has returned; nil when Spec.Trace was not set.
func (p *Process) Trace() []FileAccess {
	_ = p.Wait()
	return p.traced
}

// Supported returns nil when this process may run sandboxes (as root, or
// rootless through user namespaces), else the error Start would return,
// so callers can refuse before flattening a large image. Start can still
// fail where a container runtime forbids namespaces.
func Supported() error {
	_, err := checkPrivileges(os.Geteuid(), readSysctl)
	return err
}

// checkPrivileges says whether the sandbox must be rootless (not root:
// a user namespace owns the others), or refuses early, in one sentence,
// where the machine allows neither.
func checkPrivileges(euid int, sysctl func(name string) string) (rootless bool, err error) {
	if euid == 0 {
		return false, nil
	}
	if sysctl("kernel/unprivileged_userns_clone") == "0" || sysctl("user/max_user_namespaces") == "0" {
		return false, fmt.Errorf("%w: running an image needs root, or user namespaces, which this machine does not allow to unprivileged users: run fnopt as root (e.g. with sudo)", ErrUnsupported)
	}
	return true, nil
}

// readSysctl returns a /proc/sys value, "" when it does not exist.
func readSysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// namespaceError explains a failed clone: inside a container without
// CAP_SYS_ADMIN, with namespaces switched off, or (not root) with user
// namespaces restricted, clone says EPERM, EINVAL, ENOSPC or EACCES.
func namespaceError(err error, rootless bool) error {
	if !(errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EUSERS) || errors.Is(err, unix.EACCES)) {
		return fmt.Errorf("starting sandbox: %w", err)
	}
	if rootless {
		return fmt.Errorf("%w: not root, and this machine refuses user namespaces to unprivileged users (%v): run fnopt as root (e.g. with sudo)", ErrUnsupported, err)
	}
	return fmt.Errorf("%w: cannot create mount, PID and network namespaces (%v); inside a container run it privileged, or run on a machine that allows namespaces", ErrUnsupported, err)
}
