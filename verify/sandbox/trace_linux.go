package sandbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Tracing runs the host's strace inside the sandbox's namespaces. strace
// is dynamically linked and lives on the host, so it starts before the
// root is switched: the init prepares the mounts, starts
//
//	strace -f ... -o TRACEFILE -- /proc/self/fd/3   (our binary: the exec stage)
//
// and the exec stage, already traced, switches the root for the whole
// mount namespace (strace's own root moves too; it has its output file
// open already), drops privileges, touches traceMarker and execs the
// function. Everything strace logged before the marker is the exec stage's
// own start-up and is dropped.
const traceMarker = "/.fnopt-sandbox-exec"

// execStage is the exec stage's configuration, passed in envExec.
type execStage struct {
	NewRoot  string   `json:"new_root"`
	Argv     []string `json:"argv"`
	Env      []string `json:"env"`
	WorkDir  string   `json:"work_dir"`
	Rootless bool     `json:"rootless"`
}

func startTraced(cfg *config, newRoot string) (*os.Process, error) {
	// strace's child execs our own binary through an inherited descriptor
	// (fd 3 there), which works even if the file was replaced or deleted
	// since we started; the exec stage closes it before the function runs.
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("opening our own binary: %w", err)
	}
	defer self.Close()
	b, err := json.Marshal(execStage{NewRoot: newRoot, Argv: cfg.Argv, Env: cfg.Env, WorkDir: cfg.WorkDir, Rootless: cfg.Rootless})
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path: cfg.Strace,
		Args: []string{"strace", "-f", "-qq", "--seccomp-bpf", "-xx",
			"-e", "trace=%file", "-e", "signal=none", "-o", cfg.TraceFile, "--", "/proc/self/fd/3"},
		Env:         []string{envInit + "=" + stageExec, envExec + "=" + string(b)},
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		ExtraFiles:  []*os.File{self},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting strace: %w", err)
	}
	return cmd.Process, nil
}

// runExec is the traced exec stage; it only returns if the exec failed.
func runExec() int {
	runtime.LockOSThread()
	var st execStage
	if err := json.Unmarshal([]byte(os.Getenv(envExec)), &st); err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: decoding exec stage: %v\n", err)
		return 127
	}
	err := func() error {
		if err := enterRoot(st.NewRoot); err != nil {
			return err
		}
		bin, err := lookPath(st.Argv[0], st.WorkDir, st.Env)
		if err != nil {
			return err
		}
		if err := unix.Chdir(st.WorkDir); err != nil {
			return fmt.Errorf("entering working directory %s: %w", st.WorkDir, err)
		}
		if err := dropCapabilities(); err != nil {
			return err
		}
		if !st.Rootless {
			if err := unix.Setgroups(nil); err != nil {
				return fmt.Errorf("dropping groups: %w", err)
			}
			if err := unix.Setresgid(FunctionGID, FunctionGID, FunctionGID); err != nil {
				return fmt.Errorf("dropping privileges: %w", err)
			}
			if err := unix.Setresuid(FunctionUID, FunctionUID, FunctionUID); err != nil {
				return fmt.Errorf("dropping privileges: %w", err)
			}
		}
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("setting no_new_privs: %w", err)
		}
		_ = unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
		_ = unix.Access(traceMarker, unix.F_OK)
		return fmt.Errorf("exec %s: %w", bin, unix.Exec(bin, st.Argv, st.Env))
	}()
	fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
	return 127
}

// parseTraceFile reads strace's output, keeping what follows traceMarker.
func parseTraceFile(file, workDir string) ([]FileAccess, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading trace: %w", err)
	}
	defer f.Close()
	var out []FileAccess
	started := false
	pending := map[int]string{} // unfinished calls, by pid
	cwd := map[int]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		pid, rest, ok := splitPID(sc.Text())
		if !ok {
			continue
		}
		if head, ok := strings.CutSuffix(rest, " <unfinished ...>"); ok {
			pending[pid] = head
			continue
		}
		// An execve by a thread other than the leader: strace ends it
		// under the leader's pid, which the thread takes over.
		if head, leader, ok := pidChanged(rest); ok {
			pending[leader] = head
			continue
		}
		if strings.HasPrefix(rest, "<... ") {
			i := strings.Index(rest, " resumed>")
			if i < 0 {
				continue
			}
			rest = pending[pid] + rest[i+len(" resumed>"):]
			delete(pending, pid)
		}
		a, ok := parseCall(pid, rest)
		if !ok {
			continue
		}
		if !started {
			started = a.Path == traceMarker
			continue
		}
		dir, known := cwd[pid]
		if !known {
			dir = workDir
		}
		a.Resolved = resolve(dir, a.Path, rest)
		if a.Syscall == "chdir" && a.OK() {
			cwd[pid] = a.Resolved
		}
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("reading trace: %w", err)
	}
	return out, nil
}

// pidChanged reads strace's `execve(...) <pid changed to N ...>`, the
// start of an execve whose end strace logs under pid N.
func pidChanged(rest string) (head string, pid int, ok bool) {
	i := strings.LastIndex(rest, " <pid changed to ")
	if i < 0 || !strings.HasSuffix(rest, " ...>") {
		return "", 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest[i+len(" <pid changed to "):], " ...>"))
	if err != nil {
		return "", 0, false
	}
	return rest[:i], n, true
}

func splitPID(line string) (int, string, bool) {
	sp := strings.IndexByte(line, ' ')
	if sp < 0 {
		return 0, "", false
	}
	pid, err := strconv.Atoi(line[:sp])
	if err != nil {
		return 0, "", false
	}
	return pid, strings.TrimLeft(line[sp+1:], " "), true
}

// parseCall reads `name(args...) = result [ERRNO (text)]` with strings
// in -xx form ("\x2f\x65..."). strace pads a short line with blanks
// before " = " to line the results up (a resumed call's tail, such as
// `<... openat resumed>)             = 3`, always is short).
func parseCall(pid int, s string) (FileAccess, bool) {
	open := strings.IndexByte(s, '(')
	m := resultRE.FindAllStringIndex(s, -1)
	if open <= 0 || len(m) == 0 || m[len(m)-1][0] < open {
		return FileAccess{}, false
	}
	eq, resStart := m[len(m)-1][0], m[len(m)-1][1]
	a := FileAccess{PID: pid, Syscall: s[:open]}
	if q := strings.IndexByte(s[open:eq], '"'); q >= 0 {
		start := open + q + 1
		end := strings.IndexByte(s[start:eq], '"')
		if end < 0 {
			return FileAccess{}, false
		}
		a.Path = decodeHex(s[start : start+end])
	}
	res := strings.Fields(s[resStart:])
	if len(res) == 0 {
		return FileAccess{}, false
	}
	a.Result, _ = strconv.ParseInt(res[0], 0, 64)
	if a.Result < 0 && len(res) > 1 && strings.HasPrefix(res[1], "E") {
		a.Errno = res[1]
	}
	return a, true
}

// resultRE is the end of a call's arguments and the start of its result.
var resultRE = regexp.MustCompile(`\) += `)

// decodeHex decodes strace's -xx strings; anything else is kept as is.
func decodeHex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// resolve makes p absolute when it is absolute already or relative to the
// working directory; paths relative to another directory descriptor stay
// unresolved ("").
func resolve(cwd, p, call string) string {
	if p == "" {
		return ""
	}
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	args := call[strings.IndexByte(call, '(')+1:]
	if strings.HasPrefix(args, "AT_FDCWD") || strings.HasPrefix(args, `"`) {
		return path.Join(cwd, p)
	}
	return ""
}
