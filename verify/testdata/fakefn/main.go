// Command fakefn is a Lambda custom runtime with known behaviour, for
// verify's tests. Its behaviour is the name of its task root folder
// (LAMBDA_TASK_ROOT), so that one build serves every case.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "linger":
			time.Sleep(time.Hour)
			return
		case "middle":
			// The first fork of a daemon: start the lingering process in
			// a session of its own, then exit, orphaning it.
			cmd := exec.Command(os.Args[0], "daemon", os.Args[2])
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			if err := cmd.Start(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			return
		case "daemon":
			// Holds the output pipe open, and when asked to stop (SIGTERM)
			// cleans up: it leaves a file in the folder it was given.
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, syscall.SIGTERM)
			fmt.Fprintln(os.Stderr, "fakefn: daemon running")
			_ = os.WriteFile(filepath.Join(os.Args[2], "daemon-ready"), nil, 0o644)
			select {
			case <-stop:
				_ = os.WriteFile(filepath.Join(os.Args[2], "cleaned-up"), nil, 0o644)
			case <-time.After(time.Hour):
			}
			return
		}
	}
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/"
	mode := filepath.Base(os.Getenv("LAMBDA_TASK_ROOT"))
	if m := os.Getenv("FAKEFN_MODE"); m != "" {
		// An image's ENV chooses (its task root is always /var/task).
		mode = m
	}
	fmt.Fprintf(os.Stderr, "fakefn: mode %s\n", mode)

	// Init.
	switch {
	case strings.HasPrefix(mode, "sleep"):
		ms, _ := strconv.Atoi(strings.TrimPrefix(mode, "sleep"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
	case mode == "crash":
		fmt.Fprintln(os.Stderr, "fakefn: panic: config missing")
		os.Exit(3)
	case mode == "hang":
		time.Sleep(time.Hour)
	case mode == "initerror":
		post(api+"init/error", `{"errorMessage":"TABLE not set","errorType":"Runtime.ConfigError"}`, "Runtime.ConfigError")
		os.Exit(1)
	case strings.HasPrefix(mode, "alloc"):
		mb, _ := strconv.Atoi(strings.TrimPrefix(mode, "alloc"))
		b := make([]byte, mb<<20)
		for i := range b {
			b[i] = 1
		}
		defer fmt.Println(len(b))
	case mode == "env":
		// Answers with its environment and working directory.
	case mode == "flood":
		// 64 MiB of output before the first /next.
		line := []byte(strings.Repeat("flood ", 170) + "\n")
		for n := 0; n < 64<<20; n += len(line) {
			os.Stdout.Write(line)
		}
	}

	var child int
	if mode == "daemon" {
		// Double fork and setsid: the daemon leaves the process group and
		// is orphaned. Its argument (the task root) names it for the test.
		// Files, not pipes: the daemon holds the sample's own output.
		middle := exec.Command(os.Args[0], "middle", os.Getenv("LAMBDA_TASK_ROOT"))
		middle.Stdout, middle.Stderr = os.Stdout, os.Stderr
		if err := middle.Run(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		// Answer only once the daemon listens for SIGTERM.
		ready := filepath.Join(os.Getenv("LAMBDA_TASK_ROOT"), "daemon-ready")
		for _, err := os.Stat(ready); err != nil; _, err = os.Stat(ready) {
			time.Sleep(time.Millisecond)
		}
		_ = os.Remove(ready)
	}
	if mode == "fork" {
		// The task root in its arguments names it for the test, which
		// cannot use its PID: the function may be in a PID namespace.
		cmd := exec.Command(os.Args[0], "linger", os.Getenv("LAMBDA_TASK_ROOT"))
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		child = cmd.Process.Pid
	}

	for {
		resp, err := http.Get(api + "invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		event, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		switch mode {
		case "error":
			post(api+"invocation/"+id+"/error", `{"errorMessage":"handler failed","errorType":"HandlerError"}`, "HandlerError")
		case "big":
			post(api+"invocation/"+id+"/response", strings.Repeat("x", 7<<20), "")
		case "signal":
			fmt.Fprintln(os.Stderr, "fakefn: about to die")
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			// Still here: PID 1 of a PID namespace, which ignores signals
			// from inside its namespace that it does not handle.
			time.Sleep(time.Hour)
		case "escape":
			// Tries to write outside /tmp: in a sandbox only /tmp is
			// writable. Answers "tmp-only" when that held.
			var wrote []string
			for _, p := range []string{"/tmp/fakefn-escape", "/etc/fakefn-escape", "/var/task/fakefn-escape", "/fakefn-escape"} {
				if os.WriteFile(p, []byte("x"), 0o644) == nil {
					wrote = append(wrote, p)
				}
			}
			answer := `"tmp-only"`
			if len(wrote) != 1 || wrote[0] != "/tmp/fakefn-escape" {
				answer = strconv.Quote("wrote " + strings.Join(wrote, " "))
			}
			post(api+"invocation/"+id+"/response", answer, "")
		case "segv":
			fmt.Fprintln(os.Stderr, "fakefn: about to crash")
			crash()
		case "noanswer":
			time.Sleep(time.Hour)
		case "fork":
			post(api+"invocation/"+id+"/response", strconv.Itoa(child), "")
		case "env":
			wd, _ := os.Getwd()
			post(api+"invocation/"+id+"/response", strings.Join(append(os.Environ(), "PWD="+wd), "\n"), "")
		default:
			post(api+"invocation/"+id+"/response", string(event), "")
		}
	}
}

// crash dies of SIGSEGV as a C program does: the Go runtime's handler is
// replaced with the default action first, so that the fault kills the
// process even as PID 1 of a PID namespace (the kernel lets a fault's
// default action kill it; a signal sent from inside the namespace is
// ignored).
func crash() {
	var dfl struct {
		handler, flags, restorer uintptr
		mask                     uint64
	}
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGSEGV), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	var p *int
	*p = 1
}

func post(url, body, errType string) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	if errType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Fprintf(os.Stderr, "fakefn: %s -> %d\n", url, resp.StatusCode)
}
