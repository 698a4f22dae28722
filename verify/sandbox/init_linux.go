package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// MaybeRunInit turns the process into the sandbox's init (or its traced
// exec stage) when Start re-executed it, and then never returns: it exits
// with the function's status. In any other process it returns at once.
// Call it first thing in main and in TestMain of packages that use Start.
func MaybeRunInit() {
	switch os.Getenv(envInit) {
	case stageInit:
		os.Exit(runInit())
	case stageExec:
		os.Exit(runExec())
	}
}

// runInit is PID 1 of the new namespaces. It prepares the network and the
// mounts, starts the function, reaps every process and reports the
// function's exit. When it exits, the kernel kills whatever is left.
func runInit() int {
	// Namespaces, no_new_privs and the fork of the function all act per
	// thread: keep them on one.
	runtime.LockOSThread()
	// Nothing of ours may leak into the function.
	_ = unix.CloseRange(initFD, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	buf := make([]byte, maxPacket)
	n, err := unix.Read(initFD, buf)
	for errors.Is(err, unix.EINTR) {
		n, err = unix.Read(initFD, buf)
	}
	if err != nil || n == 0 {
		return 1
	}
	var cfg config
	if err := json.Unmarshal(buf[:n], &cfg); err != nil {
		return fail(fmt.Errorf("decoding configuration: %w", err))
	}

	lfd, err := listen()
	if err != nil {
		return fail(err)
	}
	if err := sendMessage(initFD, message{Kind: msgListener}, lfd); err != nil {
		return 1
	}
	unix.Close(lfd)

	newRoot, err := mountRoot(&cfg)
	if err != nil {
		return fail(err)
	}
	_ = unix.Sethostname([]byte("localhost"))
	if err := setLimits(cfg.Rootless); err != nil {
		return fail(err)
	}

	var fn *os.Process
	if cfg.TraceFile != "" {
		fn, err = startTraced(&cfg, newRoot)
	} else {
		fn, err = startDirect(&cfg, newRoot)
	}
	if err != nil {
		return fail(err)
	}
	var now unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &now)
	if err := sendMessage(initFD, message{Kind: msgStarted, Mono: now.Nano()}, -1); err != nil {
		return 1
	}
	go exitWithParent()
	return reap(fn.Pid)
}

// exitWithParent ends the sandbox when the process that started it goes
// away (its end of the control socket closes), so a crashed or killed
// fnopt leaves nothing running. Unlike Pdeathsig, this does not fire when
// merely the parent's forking thread exits.
func exitWithParent() {
	buf := make([]byte, 1)
	for {
		n, err := unix.Read(initFD, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if n == 0 || err != nil {
			os.Exit(137)
		}
	}
}

// setLimits gives the function Lambda's process and file limits (1024
// each); they also keep a fork bomb from reaching the host's limits.
// RLIMIT_NPROC counts every process of the host user, so a rootless
// sandbox, whose function is the invoking user outside, goes without it.
// syscall.Setrlimit, not unix's, so that os/exec passes our RLIMIT_NOFILE
// on instead of restoring the one the Go runtime started with.
func setLimits(rootless bool) error {
	limits := []struct {
		res int
		max uint64
	}{{unix.RLIMIT_NOFILE, 1024}}
	if !rootless {
		limits = append(limits, struct {
			res int
			max uint64
		}{unix.RLIMIT_NPROC, 1024})
	}
	for _, l := range limits {
		if err := syscall.Setrlimit(l.res, &syscall.Rlimit{Cur: l.max, Max: l.max}); err != nil {
			return fmt.Errorf("setting resource limits: %w", err)
		}
	}
	return nil
}

func fail(err error) int {
	_ = sendMessage(initFD, message{Kind: msgFailed, Error: err.Error()}, -1)
	return 1
}

// reap waits for every child (orphans re-parent to us) until the function
// exits, then reports its status and rusage.
func reap(fnPid int) int {
	for {
		var ws unix.WaitStatus
		var ru unix.Rusage
		pid, err := unix.Wait4(-1, &ws, 0, &ru)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 1
		}
		if pid != fnPid {
			continue
		}
		m := message{Kind: msgExit, MaxRSS: ru.Maxrss << 10}
		if ws.Signaled() {
			m.Signal = int(ws.Signal())
			_ = sendMessage(initFD, m, -1)
			return 128 + m.Signal
		}
		m.Code = ws.ExitStatus()
		_ = sendMessage(initFD, m, -1)
		return m.Code
	}
}

// listen brings the loopback interface up (a new network namespace has
// it down) and listens on ListenAddr there.
func listen() (int, error) {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("bringing up lo: %w", err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return -1, err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return -1, fmt.Errorf("bringing up lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return -1, fmt.Errorf("bringing up lo: %w", err)
	}

	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("listening on %s: %w", ListenAddr, err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: 9001, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listening on %s: %w", ListenAddr, err)
	}
	if err := unix.Listen(fd, 128); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("listening on %s: %w", ListenAddr, err)
	}
	return fd, nil
}

// startDirect enters the new root and starts the function as our child.
func startDirect(cfg *config, newRoot string) (*os.Process, error) {
	if err := enterRoot(newRoot); err != nil {
		return nil, err
	}
	bin, err := lookPath(cfg.Argv[0], cfg.WorkDir, cfg.Env)
	if err != nil {
		return nil, err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("setting no_new_privs: %w", err)
	}
	if err := dropCapabilities(); err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if !cfg.Rootless {
		cred = &syscall.Credential{Uid: FunctionUID, Gid: FunctionGID, Groups: []uint32{}}
	}
	cmd := &exec.Cmd{
		Path:        bin,
		Args:        cfg.Argv,
		Env:         cfg.Env,
		Dir:         cfg.WorkDir,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true, Credential: cred},
	}
	// Start returns once the exec has succeeded (os/exec waits for its
	// close-on-exec pipe to close), so the caller's timestamp is the exec.
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Argv[0], unwrapExec(err))
	}
	return cmd.Process, nil
}

func unwrapExec(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// lookPath resolves argv0 as a container runtime does: a name with a
// slash is taken as is (relative to the working directory), a bare name is
// searched in the function's own PATH.
func lookPath(argv0, workDir string, env []string) (string, error) {
	if strings.Contains(argv0, "/") {
		if !path.IsAbs(argv0) {
			argv0 = path.Join(workDir, argv0)
		}
		return argv0, nil
	}
	search := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			search = v
		}
	}
	for _, dir := range strings.Split(search, ":") {
		if dir == "" {
			dir = "."
		}
		p := path.Join(dir, argv0)
		if !path.IsAbs(p) {
			p = path.Join(workDir, p)
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable file not found in the image's PATH (%s)", argv0, search)
}
