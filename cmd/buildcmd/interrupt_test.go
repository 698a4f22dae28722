//go:build unix

package buildcmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fnopt/fnopt/cmd/cmdutil"
)

// TestMain lets the test binary act as `fnopt build` when re-executed
// with FNOPT_TEST_BUILDCMD=1, so a test can signal a real process.
func TestMain(m *testing.M) {
	if os.Getenv("FNOPT_TEST_BUILDCMD") == "1" {
		ios := cmdutil.System()
		cmd := NewCmd(ios)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs(os.Args[1:])
		os.Exit(cmdutil.Report(ios.ErrOut, cmd.Execute()))
	}
	os.Exit(m.Run())
}

// Ctrl-C during the compile kills the compiler's whole process group and
// leaves nothing in dist/.
func TestInterruptCleansUp(t *testing.T) {
	dir := project(t, nil)
	// A "go" that stands for a long compile: it records its pid and
	// sleeps in a child process of its own.
	fake := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "sleep.pid")
	script := "#!/bin/sh\nsleep 60 &\necho $! > " + pidFile + "\nwait\n"
	if err := os.WriteFile(filepath.Join(fake, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, dir)
	cmd.Env = append(os.Environ(), "FNOPT_TEST_BUILDCMD=1", "PATH="+fake+":"+os.Getenv("PATH"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	var sleepPid int
	deadline := time.Now().Add(20 * time.Second)
	for sleepPid == 0 && time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			sleepPid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sleepPid == 0 {
		t.Fatalf("the fake compiler never started\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("exit %v, want status 2\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr %q does not say the build was interrupted", stderr.String())
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "dist"))
	for _, e := range ents {
		t.Errorf("dist/%s left by an interrupted build", e.Name())
	}
	// The compiler's own child is gone too (signal 0 probes existence;
	// a zombie not yet reaped by init would still answer, so allow time).
	gone := false
	for i := 0; i < 100 && !gone; i++ {
		gone = syscall.Kill(sleepPid, 0) != nil || isZombie(sleepPid)
		time.Sleep(20 * time.Millisecond)
	}
	if !gone {
		syscall.Kill(sleepPid, syscall.SIGKILL)
		t.Error("the compiler's child process outlived the interrupted build")
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) STATE ...
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}
