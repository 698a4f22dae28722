package sandbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The parent and the init talk over a SOCK_SEQPACKET pair (fd 3 in the
// init): one JSON message per packet, the listener's descriptor riding
// along as SCM_RIGHTS.
const (
	envInit   = "FNOPT_SANDBOX_INIT"
	envExec   = "FNOPT_SANDBOX_EXEC" // configuration of the traced exec stage
	stageInit = "init"
	stageExec = "exec"
	initFD    = 3
	maxPacket = 1 << 20
)

type msgKind string

const (
	msgListener msgKind = "listener"
	msgStarted  msgKind = "started"
	msgFailed   msgKind = "failed"
	msgExit     msgKind = "exit"
)

type message struct {
	Kind   msgKind `json:"kind"`
	Error  string  `json:"error,omitempty"`
	Mono   int64   `json:"mono,omitempty"` // CLOCK_MONOTONIC of the exec, in ns
	Code   int     `json:"code,omitempty"`
	Signal int     `json:"signal,omitempty"`
	MaxRSS int64   `json:"max_rss,omitempty"`
}

// config is what the init needs, sent as the first packet.
type config struct {
	Root      string   `json:"root"`
	Argv      []string `json:"argv"`
	Env       []string `json:"env"`
	WorkDir   string   `json:"work_dir"`
	Stage     string   `json:"stage"`      // empty host folder the init mounts its staging tmpfs on
	Strace    string   `json:"strace"`     // strace binary, when tracing
	TraceFile string   `json:"trace_file"` // where strace writes, on the host
	Rootless  bool     `json:"rootless"`   // in a user namespace: keep uid 0 there, no nproc limit
}

func newConfig(spec Spec) (*config, error) {
	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return nil, errors.New("sandbox: nothing to run (empty entrypoint and cmd)")
	}
	if !filepath.IsAbs(spec.Root) {
		return nil, fmt.Errorf("sandbox: root %q must be an absolute path", spec.Root)
	}
	if fi, err := os.Stat(spec.Root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("sandbox: root %s is not a folder", spec.Root)
	}
	wd := spec.WorkDir
	if wd == "" {
		wd = "/"
	}
	if !path.IsAbs(wd) {
		return nil, fmt.Errorf("sandbox: working directory %q must be absolute", wd)
	}
	return &config{Root: spec.Root, Argv: spec.Argv, Env: spec.Env, WorkDir: path.Clean(wd)}, nil
}

func fileConn(fd int) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), "sandbox-control")
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("opening sandbox control socket: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, errors.New("sandbox control socket is not a unix socket")
	}
	return uc, nil
}

// readMessage reads one packet and the descriptor it carries, if any (-1).
func readMessage(c *net.UnixConn) (*message, int, error) {
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, -1, err
	}
	if n == 0 {
		return nil, -1, errors.New("sandbox init closed the control socket")
	}
	fd := -1
	if oobn > 0 {
		scms, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil && len(scms) == 1 {
			if fds, err := unix.ParseUnixRights(&scms[0]); err == nil && len(fds) == 1 {
				fd = fds[0]
				unix.CloseOnExec(fd)
			}
		}
	}
	var m message
	if err := json.Unmarshal(buf[:n], &m); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, -1, fmt.Errorf("decoding message from sandbox init: %w", err)
	}
	return &m, fd, nil
}

// sendMessage is the init's side: one packet, optionally with a descriptor.
func sendMessage(fd int, m message, passFD int) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var oob []byte
	if passFD >= 0 {
		oob = unix.UnixRights(passFD)
	}
	return unix.Sendmsg(fd, b, oob, nil, 0)
}

// childOf returns the PID of the (single) child of pid: the function, or
// strace when tracing. Any of the init's threads may have forked it.
func childOf(pid int) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			if c, err := strconv.Atoi(f[0]); err == nil {
				return c
			}
		}
	}
	return 0
}

// readHWM returns the peak RSS (VmHWM) of a live process in bytes, or 0.
// Unlike rusage's ru_maxrss it starts afresh at exec.
func readHWM(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
