package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify/runtimeapi"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	MaybeRunInit()
	maybeRunOrphanHelper()
	maybeRunRootlessHelper()
	code := m.Run()
	if fixturesDir != "" {
		os.RemoveAll(fixturesDir)
	}
	os.Exit(code)
}

// Built once per test binary: the static Go function and the dynamically
// linked C program.
var (
	buildOnce   sync.Once
	goFn, cFn   string
	buildErr    error
	fixturesDir string // removed by TestMain
)

func fixtures(t testing.TB) (goBin, cBin string) {
	t.Helper()
	testenv.LookPath(t, "gcc", "gcc")
	buildOnce.Do(func() {
		fixturesDir, buildErr = os.MkdirTemp("", "fnopt-sandbox-test-")
		if buildErr != nil {
			return
		}
		goFn, cFn = filepath.Join(fixturesDir, "fn"), filepath.Join(fixturesDir, "cfn")
		gb := exec.Command("go", "build", "-o", goFn, "./testdata/fn")
		gb.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := gb.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the Go test function: %v\n%s", err, out)
			return
		}
		if out, err := exec.Command("gcc", "-O2", "-o", cFn, "testdata/cfn/main.c").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the C test program: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return goFn, cFn
}

func copyFile(t testing.TB, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// goRoot is an image root holding the static Go function as
// /var/task/bootstrap and a world-writable /data.
func goRoot(t testing.TB) string {
	goBin, _ := fixtures(t)
	root := filepath.Join(t.TempDir(), "root")
	copyFile(t, goBin, filepath.Join(root, "var/task/bootstrap"), 0o755)
	if err := os.Mkdir(filepath.Join(root, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	return root
}

// cRoot is an image root with the dynamically linked C program at
// /usr/bin/cfn and the libraries ldd names, copied from this machine.
func cRoot(t testing.TB) string {
	_, cBin := fixtures(t)
	root := filepath.Join(t.TempDir(), "root")
	copyWithLibs(t, root, cBin, "/usr/bin/cfn")
	return root
}

// copyWithLibs copies the host program bin to dst in root, with the
// loader and libraries ldd names for it, at the same paths.
func copyWithLibs(t testing.TB, root, bin, dst string) {
	t.Helper()
	copyFile(t, bin, filepath.Join(root, dst), 0o755)
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", bin, err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if strings.HasPrefix(f, "/") {
				copyFile(t, f, filepath.Join(root, f), 0o755)
				n++
			}
		}
	}
	if n < 2 {
		t.Fatalf("ldd named %d libraries for %s, want the loader and libc at least:\n%s", n, bin, out)
	}
}

type report struct {
	UID        int    `json:"uid"`
	PID        int    `json:"pid"`
	Hostname   string `json:"hostname"`
	Cwd        string `json:"cwd"`
	Env        string `json:"env"`
	WriteRoot  string `json:"write_root"`
	WriteTmp   string `json:"write_tmp"`
	DialHost   string `json:"dial_host"`
	DialRemote string `json:"dial_remote"`
	DevNull    string `json:"dev_null"`
	Urandom    string `json:"urandom"`
	Procs      int    `json:"procs"`
	ChildPID   int    `json:"child_pid"`
	// From /proc/self/status and /proc/self/mountinfo.
	Seccomp    string `json:"seccomp"`
	NoNewPrivs string `json:"no_new_privs"`
	CapEff     string `json:"cap_eff"`
	CapPrm     string `json:"cap_prm"`
	CapBnd     string `json:"cap_bnd"`
	Mountinfo  string `json:"mountinfo"`
}

// serve runs the Runtime API emulator on the sandbox's listener.
func serve(t testing.TB, p *Process) *runtimeapi.Server {
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "fn", MemoryMB: 128, Timeout: 10 * time.Second})
	go http.Serve(p.Listener, srv)
	t.Cleanup(srv.Close)
	return srv
}

func invoke(t testing.TB, srv *runtimeapi.Server) report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := srv.Invoke(ctx, []byte(`{}`))
	if err != nil {
		t.Fatalf("invoking the function: %v", err)
	}
	if res.Error != nil {
		t.Fatalf("function error: %+v", res.Error)
	}
	var r report
	if err := json.Unmarshal(res.Body, &r); err != nil {
		t.Fatalf("decoding %q: %v", res.Body, err)
	}
	return r
}

func start(t testing.TB, spec Spec) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := Start(ctx, spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { p.Kill(); p.Wait() })
	return p
}

func TestSandboxIsolation(t *testing.T) {
	testenv.RequireRoot(t)
	root := goRoot(t)
	hostLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hostLn.Close()
	go func() {
		for {
			c, err := hostLn.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// The host listener is reachable from here, so only the sandbox can
	// make the function's dial fail.
	if c, err := net.Dial("tcp", hostLn.Addr().String()); err != nil {
		t.Fatalf("host listener unreachable from the host: %v", err)
	} else {
		c.Close()
	}
	var stderr bytes.Buffer
	p := start(t, Spec{
		Root:    root,
		Argv:    []string{"/var/task/bootstrap"},
		Env:     []string{"AWS_LAMBDA_RUNTIME_API=" + ListenAddr, "FN_MARK=yes", "HOST_ADDR=" + hostLn.Addr().String(), "REMOTE_ADDR=192.0.2.1:80"},
		WorkDir: "/var/task",
		Stderr:  &stderr,
	})
	srv := serve(t, p)
	r := invoke(t, srv)
	checks := []struct {
		name string
		ok   bool
		got  any
	}{
		{"runs as Lambda's non-root user", r.UID == FunctionUID, r.UID},
		{"is not PID 1 but alone in its PID namespace", r.PID > 1 && r.Procs == 2, fmt.Sprintf("pid %d, %d processes", r.PID, r.Procs)},
		{"own hostname", r.Hostname == "localhost", r.Hostname},
		{"working directory", r.Cwd == "/var/task", r.Cwd},
		{"environment", r.Env == "yes", r.Env},
		{"root is read-only", strings.Contains(r.WriteRoot, "read-only file system"), r.WriteRoot},
		{"/tmp is writable", r.WriteTmp == "ok", r.WriteTmp},
		{"host loopback unreachable", strings.Contains(r.DialHost, "connection refused"), r.DialHost},
		{"no route out", strings.Contains(r.DialRemote, "network is unreachable"), r.DialRemote},
		{"/dev/null writable", r.DevNull == "ok", r.DevNull},
		{"/dev/urandom readable", r.Urandom == "ok", r.Urandom},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
	if p.MaxRSS() <= 0 {
		t.Errorf("MaxRSS = %d while running", p.MaxRSS())
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	var ee *ExitError
	if err := p.Wait(); !errors.As(err, &ee) || !ee.Killed {
		t.Fatalf("Wait after Kill = %v, want a killed ExitError", err)
	}
	// The image folder is untouched: no mount point was created in it.
	ents, _ := os.ReadDir(root)
	if len(ents) != 2 {
		t.Errorf("root folder changed: %v", ents)
	}
	if _, err := os.Stat(p.tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sandbox temporary folder left behind: %v", err)
	}
	if stderr.Len() > 0 {
		t.Logf("function stderr: %s", stderr.String())
	}
}

// descendants lists the host PIDs below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			pp, _ := strconv.Atoi(f[1])
			children[pp] = append(children[pp], c)
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

func TestKillEndsLingeringChildren(t *testing.T) {
	testenv.RequireRoot(t)
	p := start(t, Spec{
		Root: goRoot(t),
		Argv: []string{"/var/task/bootstrap", "linger"},
		Env:  []string{"AWS_LAMBDA_RUNTIME_API=" + ListenAddr},
	})
	r := invoke(t, serve(t, p))
	if r.ChildPID == 0 {
		t.Fatal("function did not start its child")
	}
	procs := descendants(p.Pid)
	if len(procs) < 2 {
		t.Fatalf("descendants of the init %v, want the function and its child", procs)
	}
	p.Kill()
	p.Wait()
	for _, pid := range procs {
		if err := unix.Kill(pid, 0); !errors.Is(err, unix.ESRCH) {
			t.Errorf("process %d survived Kill (%v)", pid, err)
		}
	}
}

func TestDynamicBinaryAndExitStatus(t *testing.T) {
	testenv.RequireRoot(t)
	root := cRoot(t)
	for _, tc := range []struct {
		args []string
		code int
	}{{nil, 0}, {[]string{"7"}, 7}} {
		var out bytes.Buffer
		p := start(t, Spec{Root: root, Argv: append([]string{"cfn"}, tc.args...), Env: []string{"PATH=/usr/bin"}, Stdout: &out})
		err := p.Wait()
		var ee *ExitError
		switch {
		case tc.code == 0 && err != nil:
			t.Fatalf("Wait = %v, want success", err)
		case tc.code != 0 && (!errors.As(err, &ee) || ee.Code != tc.code):
			t.Fatalf("Wait = %v, want exit status %d", err, tc.code)
		}
		if !strings.HasPrefix(out.String(), "mono ") {
			t.Fatalf("output %q, want the program's report", out.String())
		}
	}
}

func TestStartErrors(t *testing.T) {
	testenv.RequireRoot(t)
	root := cRoot(t)
	// Lambda's user may not run a program only root may read.
	copyFile(t, filepath.Join(root, "usr/bin/cfn"), filepath.Join(root, "usr/bin/private"), 0o700)
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"program only root may run", Spec{Root: root, Argv: []string{"/usr/bin/private"}}, "permission denied"},
		{"missing program", Spec{Root: root, Argv: []string{"/nope"}}, "no such file"},
		{"not on PATH", Spec{Root: root, Argv: []string{"nope"}, Env: []string{"PATH=/usr/bin"}}, "not found in the image's PATH"},
		{"empty argv", Spec{Root: root}, "nothing to run"},
		{"relative root", Spec{Root: "root", Argv: []string{"x"}}, "absolute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Start(context.Background(), tc.spec)
			if err == nil {
				p.Kill()
				p.Wait()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestShellScriptEntrypoint runs a #! script, as the AWS base images'
// /lambda-entrypoint.sh is, with the host's /bin/sh and its libraries.
func TestShellScriptEntrypoint(t *testing.T) {
	testenv.RequireRoot(t)
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root")
	copyWithLibs(t, root, sh, "/bin/sh")
	script := "#!/bin/sh\necho \"hello from $0 in $PWD as $(echo ok)\"\nexit 4\n"
	if err := os.MkdirAll(filepath.Join(root, "var/task"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "lambda-entrypoint.sh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := start(t, Spec{Root: root, Argv: []string{"/lambda-entrypoint.sh"}, WorkDir: "/var/task", Stdout: &out, Stderr: &out})
	var ee *ExitError
	if err := p.Wait(); !errors.As(err, &ee) || ee.Code != 4 {
		t.Fatalf("Wait = %v, want exit status 4 (output %q)", err, out.String())
	}
	if got := strings.TrimSpace(out.String()); got != "hello from /lambda-entrypoint.sh in /var/task as ok" {
		t.Fatalf("script said %q", got)
	}
}

func TestTrace(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "strace", "strace")
	p := start(t, Spec{Root: cRoot(t), Argv: []string{"/usr/bin/cfn"}, Trace: true, WorkDir: "/"})
	if err := p.Wait(); err != nil {
		t.Fatalf("traced run: %v", err)
	}
	trace := p.Trace()
	var sawExec, sawLibc bool
	for _, a := range trace {
		if a.Syscall == "execve" && a.Path == "/usr/bin/cfn" && a.OK() {
			sawExec = true
		}
		if strings.HasSuffix(a.Path, "/libc.so.6") && a.OK() {
			sawLibc = true
		}
		if strings.Contains(a.Path, "fnopt") && strings.Contains(a.Path, "sandbox.test") {
			t.Errorf("trace holds the sandbox's own start-up: %+v", a)
		}
	}
	if !sawExec || !sawLibc {
		t.Fatalf("trace lacks the exec or libc (exec %v, libc %v): %+v", sawExec, sawLibc, trace)
	}
	miss := FirstFailedOpen(trace)
	if miss == nil || miss.Resolved != "/etc/fnopt-missing.conf" || miss.Errno != "ENOENT" {
		t.Fatalf("FirstFailedOpen = %+v, want the missing config file", miss)
	}

	// A missing entrypoint fails the exec; the trace says which file.
	p = start(t, Spec{Root: cRoot(t), Argv: []string{"/var/task/bootstrap"}, Trace: true})
	var ee *ExitError
	if err := p.Wait(); !errors.As(err, &ee) || ee.Code != 127 {
		t.Fatalf("traced run of a missing program: %v, want exit status 127", err)
	}
	if miss := FirstFailedOpen(p.Trace()); miss == nil || miss.Syscall != "execve" || miss.Path != "/var/task/bootstrap" {
		t.Fatalf("FirstFailedOpen = %+v, want the failed execve of /var/task/bootstrap", miss)
	}
}

func TestMemoryLimitIsEnforcedOrExplained(t *testing.T) {
	testenv.RequireRoot(t)
	p := start(t, Spec{Root: cRoot(t), Argv: []string{"/usr/bin/cfn"}, MemoryBytes: 128 << 20})
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if !p.MemoryEnforced && !strings.Contains(p.MemoryNote, "cgroup") {
		t.Fatalf("memory limit neither enforced nor explained: %q", p.MemoryNote)
	}
	t.Logf("memory limit enforced: %v %s", p.MemoryEnforced, p.MemoryNote)
}

func TestUnsupportedMachine(t *testing.T) {
	sysctls := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name     string
		euid     int
		sysctl   map[string]string
		rootless bool
		err      string
	}{
		{"root", 0, map[string]string{"user/max_user_namespaces": "0"}, false, ""},
		{"user with user namespaces", 1000, map[string]string{"user/max_user_namespaces": "100"}, true, ""},
		{"user, Debian switch off", 1000, map[string]string{"kernel/unprivileged_userns_clone": "0"}, false, "needs root"},
		{"user, no user namespaces", 1000, map[string]string{"user/max_user_namespaces": "0"}, false, "needs root"},
	}
	for _, tc := range tests {
		rootless, err := checkPrivileges(tc.euid, sysctls(tc.sysctl))
		switch {
		case tc.err == "" && err != nil, rootless != tc.rootless:
			t.Errorf("%s: rootless %v, err %v", tc.name, rootless, err)
		case tc.err != "" && (!errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err %v, want ErrUnsupported mentioning %q", tc.name, err, tc.err)
		}
	}
	for _, errno := range []syscall.Errno{unix.EPERM, unix.EINVAL} {
		for _, rootless := range []bool{false, true} {
			err := namespaceError(&os.SyscallError{Syscall: "fork/exec", Err: errno}, rootless)
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "namespaces") {
				t.Errorf("%v (rootless %v): %v", errno, rootless, err)
			}
		}
	}
}

// An execve made by a thread other than the leader (the exec stage is a
// Go program, whose goroutine may run on any thread) ends under the
// leader's pid: strace writes `<pid changed to N ...>` and resumes it as N.
// The exec must still be in the trace; it was lost now and then before.
func TestParseTraceExecFromThread(t *testing.T) {
	lines := []string{
		`7 faccessat2(AT_FDCWD, "\x2f\x2e\x66\x6e\x6f\x70\x74\x2d\x73\x61\x6e\x64\x62\x6f\x78\x2d\x65\x78\x65\x63", F_OK, 0) = -1 ENOENT (No such file or directory)`,
		`7 execve("\x2f\x62\x69\x6e", ["\x62"], 0x32b9 /* 0 vars */ <pid changed to 5 ...>`,
		`5 +++ superseded by execve in pid 7 +++`,
		`5 <... execve resumed>)             = 0`,
	}
	file := filepath.Join(t.TempDir(), "trace")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := parseTraceFile(file, "/")
	if err != nil {
		t.Fatal(err)
	}
	want := []FileAccess{{PID: 5, Syscall: "execve", Path: "/bin", Resolved: "/bin"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed %+v, want %+v", got, want)
	}
}

func TestParseTrace(t *testing.T) {
	hex := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, `\x%02x`, s[i])
		}
		return b.String()
	}
	lines := []string{
		`5 openat(AT_FDCWD, "` + hex("/proc/self/exe") + `", O_RDONLY) = 3`,
		`5 faccessat2(AT_FDCWD, "` + hex(traceMarker) + `", F_OK, 0) = -1 ENOENT (No such file or directory)`,
		`5 execve("` + hex("/var/task/bootstrap") + `", ["` + hex("bootstrap") + `"], 0x7ffd /* 3 vars */) = 0`,
		`5 openat(AT_FDCWD, "` + hex("/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libc.so.6") + `", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)`,
		`5 openat(AT_FDCWD, "` + hex("/lib/x86_64-linux-gnu/libc.so.6") + `", O_RDONLY|O_CLOEXEC) = 3`,
		`6 openat(AT_FDCWD, "` + hex("conf/app.json") + `", O_RDONLY <unfinished ...>`,
		`5 newfstatat(3, "", {st_mode=S_IFREG|0755, st_size=1}, AT_EMPTY_PATH) = 0`,
		`6 <... openat resumed>) = -1 ENOENT (No such file or directory)`,
		`5 chdir("` + hex("/opt") + `") = 0`,
		`5 openat(4, "` + hex("rel") + `", O_RDONLY) = 5`,
		`5 readlink("` + hex("x") + `", "` + hex("y") + `", 4096) = 1`,
	}
	file := filepath.Join(t.TempDir(), "trace")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := parseTraceFile(file, "/var/task")
	if err != nil {
		t.Fatal(err)
	}
	want := []FileAccess{
		{PID: 5, Syscall: "execve", Path: "/var/task/bootstrap", Resolved: "/var/task/bootstrap"},
		{PID: 5, Syscall: "openat", Path: "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libc.so.6", Resolved: "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libc.so.6", Result: -1, Errno: "ENOENT"},
		{PID: 5, Syscall: "openat", Path: "/lib/x86_64-linux-gnu/libc.so.6", Resolved: "/lib/x86_64-linux-gnu/libc.so.6", Result: 3},
		{PID: 5, Syscall: "newfstatat"},
		{PID: 6, Syscall: "openat", Path: "conf/app.json", Resolved: "/var/task/conf/app.json", Result: -1, Errno: "ENOENT"},
		{PID: 5, Syscall: "chdir", Path: "/opt", Resolved: "/opt"},
		{PID: 5, Syscall: "openat", Path: "rel", Result: 5},
		{PID: 5, Syscall: "readlink", Path: "x", Resolved: "/opt/x", Result: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if miss := FirstFailedOpen(got); miss == nil || miss.Path != "conf/app.json" {
		t.Errorf("FirstFailedOpen = %+v, want conf/app.json (the libc miss is a probe)", miss)
	}
}

// monoOf reads the C program's "mono N" line.
func monoOf(out string) (int64, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "mono "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// TestTraceAcrossKill traces a function that never exits, as optimize
// image does: what it touched while answering is in the trace after Kill.
func TestTraceAcrossKill(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "strace", "strace")
	p := start(t, Spec{Root: goRoot(t), Argv: []string{"/var/task/bootstrap"}, Trace: true,
		Env: []string{"AWS_LAMBDA_RUNTIME_API=" + ListenAddr}})
	invoke(t, serve(t, p))
	p.Kill()
	p.Wait()
	want := map[string]string{"/tmp/x": "", "/data/x": "EROFS", "/dev/urandom": ""}
	for _, a := range p.Trace() {
		if errno, ok := want[a.Resolved]; ok && a.Syscall == "openat" && a.Errno == errno {
			delete(want, a.Resolved)
		}
	}
	if len(want) > 0 {
		t.Fatalf("trace lacks the opens made while answering: %v\n%+v", want, p.Trace())
	}
}

func TestOOMKilled(t *testing.T) {
	for _, tc := range []struct {
		events string
		want   bool
	}{
		{"low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n", true},
		{"low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n", false},
		{"", false},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "memory.events"), []byte(tc.events), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := oomKilled(dir); got != tc.want {
			t.Errorf("oomKilled(%q) = %v, want %v", tc.events, got, tc.want)
		}
	}
}

// TestSandboxGuarantees checks, from inside, each statement of
// docs/sandbox.md's "What it guarantees, and what it does not": no
// privilege (no capability, no_new_privs, Lambda's uid), no seccomp
// filter, and which host paths the mount table shows the function.
func TestSandboxGuarantees(t *testing.T) {
	testenv.RequireRoot(t)
	root := goRoot(t)
	p := start(t, Spec{Root: root, Argv: []string{"/var/task/bootstrap"}, Env: []string{"AWS_LAMBDA_RUNTIME_API=" + ListenAddr}, WorkDir: "/var/task"})
	r := invoke(t, serve(t, p))
	for _, c := range []struct {
		name string
		ok   bool
		got  any
	}{
		{"Lambda's uid, not root", r.UID == FunctionUID, r.UID},
		{"no effective capability", r.CapEff == "0000000000000000", r.CapEff},
		{"no permitted capability", r.CapPrm == "0000000000000000", r.CapPrm},
		{"an empty bounding set", r.CapBnd == "0000000000000000", r.CapBnd},
		{"no_new_privs set", r.NoNewPrivs == "1", r.NoNewPrivs},
		// Stated in docs/sandbox.md: there is no seccomp filter.
		{"no seccomp filter", r.Seccomp == "0", r.Seccomp},
		// The mount table names host paths: the flattened image's folder
		// and the sandbox's own (the overlay's lower layers), and the
		// host's devtmpfs behind the devices bound in /dev.
		{"mountinfo shows the image's host folder", strings.Contains(r.Mountinfo, root), r.Mountinfo},
		{"mountinfo shows /dev/null bound from the host", strings.Contains(r.Mountinfo, " /dev/null "), r.Mountinfo},
	} {
		if !c.ok {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
	t.Logf("mountinfo inside the sandbox:\n%s", r.Mountinfo)
}
