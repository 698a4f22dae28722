package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// envRootless makes the test binary, run as an unprivileged user, start
// the Go function in a rootless sandbox, invoke it once and print its
// report as JSON.
const envRootless = "FNOPT_SANDBOX_TEST_ROOTLESS_ROOT"

func maybeRunRootlessHelper() {
	root := os.Getenv(envRootless)
	if root == "" {
		return
	}
	err := func() error {
		// A traced run first: strace works in the user namespace too.
		if _, err := exec.LookPath("strace"); err == nil {
			p, err := Start(context.Background(), Spec{Root: root, Argv: []string{"/var/task/bootstrap", "sleep"}, Trace: true, Stderr: os.Stderr})
			if err != nil {
				return fmt.Errorf("traced start: %w", err)
			}
			time.Sleep(200 * time.Millisecond)
			p.Kill()
			p.Wait()
			if len(p.Trace()) == 0 || p.Trace()[0].Syscall != "execve" {
				return fmt.Errorf("rootless trace %+v, want the function's execve first", p.Trace())
			}
		}
		p, err := Start(context.Background(), Spec{Root: root, Argv: []string{"/var/task/bootstrap"},
			Env: []string{"AWS_LAMBDA_RUNTIME_API=" + ListenAddr, "REMOTE_ADDR=192.0.2.1:80"}, Stderr: os.Stderr})
		if err != nil {
			return err
		}
		defer func() { p.Kill(); p.Wait() }()
		srv := runtimeapi.New(runtimeapi.Options{FunctionName: "fn", MemoryMB: 128, Timeout: 10 * time.Second})
		defer srv.Close()
		go http.Serve(p.Listener, srv)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := srv.Invoke(ctx, []byte(`{}`))
		if err != nil {
			return err
		}
		fmt.Printf("rootless=%v %s\n", p.Rootless, res.Body)
		return nil
	}()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestRootless(t *testing.T) {
	testenv.RequireRoot(t) // to run the helper as another user
	if readSysctl("kernel/unprivileged_userns_clone") == "0" || readSysctl("user/max_user_namespaces") == "0" {
		t.Skip("this machine refuses user namespaces to unprivileged users")
	}
	// Everything the unprivileged helper touches must be reachable by it.
	dir, err := os.MkdirTemp("", "fnopt-rootless-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(dir, "sandbox.test")
	copyFile(t, os.Args[0], self, 0o755)
	goBin, _ := fixtures(t)
	root := filepath.Join(dir, "root")
	copyFile(t, goBin, filepath.Join(root, "var/task/bootstrap"), 0o755)
	if err := os.Mkdir(filepath.Join(root, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(root, "data"), 0o777)

	helper := exec.Command(self, "-test.run=^$")
	helper.Dir = dir
	helper.Env = []string{envRootless + "=" + root, "PATH=/usr/bin:/bin", "TMPDIR=/tmp"}
	helper.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}}
	out, err := helper.CombinedOutput()
	if err != nil {
		t.Fatalf("rootless helper: %v\n%s", err, out)
	}
	line := string(out)
	rest, ok := strings.CutPrefix(strings.TrimSpace(line[strings.LastIndex(line, "rootless="):]), "rootless=true ")
	if !ok {
		t.Fatalf("helper output %q, want a rootless report", out)
	}
	var r report
	if err := json.Unmarshal([]byte(rest), &r); err != nil {
		t.Fatalf("decoding %q: %v", rest, err)
	}
	// uid 0 of the user namespace (the helper's uid outside), without a
	// capability in it, and without a seccomp filter, as docs/sandbox.md says.
	if r.UID != 0 || !strings.Contains(r.WriteRoot, "read-only") || r.WriteTmp != "ok" ||
		!strings.Contains(r.DialRemote, "unreachable") || r.Procs != 2 ||
		r.CapEff != "0000000000000000" || r.NoNewPrivs != "1" || r.Seccomp != "0" {
		t.Fatalf("rootless sandbox report %+v", r)
	}
}
