// Command fn is the sandbox tests' function: a minimal Lambda custom
// runtime that answers each invocation with what it could and could not do
// inside the sandbox. With the argument "linger" it first starts a child
// that outlives nothing but should be killed with the sandbox.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

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

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "sleep" {
		time.Sleep(time.Hour)
		return
	}
	var r report
	if len(os.Args) > 1 && os.Args[1] == "linger" {
		c := exec.Command(os.Args[0], "sleep")
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "linger:", err)
			os.Exit(3)
		}
		r.ChildPID = c.Process.Pid
	}
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := http.Get(api + "next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "next:", err)
			os.Exit(2)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		resp.Body.Close()
		check(&r)
		b, _ := json.Marshal(r)
		resp, err = http.Post(api+id+"/response", "application/json", bytes.NewReader(b))
		if err != nil {
			fmt.Fprintln(os.Stderr, "response:", err)
			os.Exit(2)
		}
		resp.Body.Close()
	}
}

func check(r *report) {
	r.UID, r.PID = os.Getuid(), os.Getpid()
	r.Hostname, _ = os.Hostname()
	r.Cwd, _ = os.Getwd()
	r.Env = os.Getenv("FN_MARK")
	// /data is world-writable in the image: only a read-only mount stops us.
	r.WriteRoot = errString(os.WriteFile("/data/x", []byte("x"), 0o644))
	r.WriteTmp = errString(os.WriteFile("/tmp/x", []byte("x"), 0o644))
	r.DialHost = dial(os.Getenv("HOST_ADDR"))
	r.DialRemote = dial(os.Getenv("REMOTE_ADDR"))
	r.DevNull = errString(os.WriteFile("/dev/null", []byte("x"), 0))
	f, err := os.Open("/dev/urandom")
	if err == nil {
		buf := make([]byte, 8)
		_, err = f.Read(buf)
		f.Close()
	}
	r.Urandom = errString(err)
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "Seccomp":
			r.Seccomp = v
		case "NoNewPrivs":
			r.NoNewPrivs = v
		case "CapEff":
			r.CapEff = v
		case "CapPrm":
			r.CapPrm = v
		case "CapBnd":
			r.CapBnd = v
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	r.Mountinfo = string(mi)
	ents, _ := os.ReadDir("/proc")
	r.Procs = 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			r.Procs++
		}
	}
}

func dial(addr string) string {
	if addr == "" {
		return "no address"
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return errString(err)
}
