package registrytest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary is where Debian's docker-registry package installs the server.
const Binary = "/usr/bin/docker-registry"

// startTimeout bounds how long the server may take to answer /v2/.
const startTimeout = 20 * time.Second

// Start runs docker-registry on 127.0.0.1:<free port> with storage in a
// test folder and no authentication, waits until /v2/ answers, and
// returns its host:port. The server is stopped and reaped when the test
// ends. The registry speaks plain HTTP: use Insecure options.
func Start(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		t.Fatalf("%s not found: run `make setup` (Debian package docker-registry)", Binary)
	}
	// The free port is found by binding and releasing it; another
	// process may take it in between, so try a few times.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		host, err := start(t)
		if err == nil {
			return host
		}
		lastErr = err
	}
	t.Fatalf("starting docker-registry: %v", lastErr)
	return ""
}

func start(t testing.TB) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "storage"), host)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return "", err
	}
	stderr := &lockedBuffer{b: &bytes.Buffer{}}
	cmd := exec.Command(Binary, "serve", cfgPath)
	// A clean environment: REGISTRY_* variables would override the
	// config file.
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir}
	cmd.Stdout = io.Discard
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		// The whole process group, in case the server ever forks.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			exited <- err // for stop
			return "", fmt.Errorf("docker-registry exited (%v): %s", err, strings.TrimSpace(stderr.String()))
		default:
		}
		resp, err := client.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(stop)
				return host, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("docker-registry on %s did not answer /v2/ within %s: %s", host, startTimeout, strings.TrimSpace(stderr.String()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort asks the kernel for a free TCP port on loopback.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
