package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fnopt/fnopt/cmd/cmdutil"
)

// TestRootErrors runs the command tree in-process: errors the root itself
// reports are one line in the user's words with exit status 2.
func TestRootErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string // the whole of stderr
		code int
	}{
		{[]string{"verfy"}, "fnopt: unknown command \"verfy\" for \"fnopt\"; did you mean verify?\n", 2},
		{[]string{"optimise"}, "fnopt: unknown command \"optimise\" for \"fnopt\"; did you mean optimize?\n", 2},
		{[]string{"xyzzy"}, "fnopt: unknown command \"xyzzy\" for \"fnopt\"; run 'fnopt --help' for the commands\n", 2},
		{[]string{"verify", "--samples", "abc", "x"}, "fnopt: --samples \"abc\": give a whole number, such as 30, or auto\n", 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stderr := runInProcess(t, tt.args)
			if code != tt.code || stderr != tt.want {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

// runInProcess is run() with buffers for the streams; it returns the exit
// status and stderr.
func runInProcess(t *testing.T, args []string) (int, string) {
	t.Helper()
	code, _, stderr := runStreams(t, args)
	return code, stderr
}

// runStreams is run() with buffers for the streams: the exit status,
// stdout and stderr.
func runStreams(t *testing.T, args []string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := cmdutil.Test()
	code := run(ios, args)
	return code, out.String(), errOut.String()
}

// TestInterruptExitStatus interrupts a measurement whose function never
// gets past init: fnopt stops, cleans up and exits 130 as shells expect of
// a program ended by Ctrl-C; TERM gives 143.
func TestInterruptExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds fnopt")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fnopt")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building fnopt: %v\n%s", err, out)
	}
	// A bootstrap that never asks for an event: the sample waits in init.
	fn := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(fn, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		cmd := exec.Command(bin, "verify", fn, "--samples", "1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond) // into the sample's init
		cmd.Process.Signal(tt.sig)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.want {
				t.Errorf("%v: %v (stderr %q), want exit status %d", tt.sig, err, stderr.String(), tt.want)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: fnopt did not stop within 30 s", tt.sig)
		}
	}
}
