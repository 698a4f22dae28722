package lambdatest

import (
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// environment is one execution environment: a running copy of the
// function, started by fnopt's own session code against its Runtime API
// emulator.
type environment struct {
	sess       *verify.Session
	generation int
	out        *lockedBuffer
	stream     string // AWS_LAMBDA_LOG_STREAM_NAME, unique to this copy
	initBytes  int    // output written before the first /next
}

func (e *environment) stop() { _ = e.sess.Stop() }

func (f *function) stopAll() {
	f.mu.Lock()
	envs := f.idle
	f.idle = nil
	for e := range f.busy {
		envs = append(envs, e)
	}
	f.mu.Unlock()
	for _, e := range envs {
		e.stop()
	}
}

// lockedBuffer collects an environment's output; invocations read what
// was written during them.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) since(n int) (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	return s[min(n, len(s)):], len(s)
}

// streamStarter starts a host process as HostStarter does and remembers
// the copy's unique log stream name, by which its process is found to
// read its peak memory (Max Memory Used).
type streamStarter struct {
	verify.HostStarter
	stream *string
}

func (s *streamStarter) Start(ctx context.Context, spec verify.StartSpec) (verify.Process, error) {
	*s.stream = streamOf(spec.Env)
	return s.HostStarter.Start(ctx, spec)
}

// streamOf is AWS_LAMBDA_LOG_STREAM_NAME in env.
func streamOf(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS_LAMBDA_LOG_STREAM_NAME="); ok {
			return v
		}
	}
	return ""
}

// invoke runs one synchronous invocation in an idle environment of the
// current configuration, or in a new one (a cold start).
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, name string, payload []byte) {
	s.withFunction(w, name, func(f *function) {
		now := time.Now()
		if now.Before(f.activeAt) {
			lambdaError(w, 409, "ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending")
			return
		}
		if t := r.Header.Get("X-Amz-Invocation-Type"); t != "" && t != "RequestResponse" {
			lambdaError(w, 400, "InvalidParameterValueException", "the double answers RequestResponse invocations only")
			return
		}
		s.run(w, r, f, payload)
	})
}

// run is an invocation of a zip function.
func (s *Server) run(w http.ResponseWriter, r *http.Request, f *function, payload []byte) {
	reqID := newRequestID()
	var log strings.Builder

	f.mu.Lock()
	gen := f.generation
	var env *environment
	if n := len(f.idle); n > 0 {
		env, f.idle = f.idle[n-1], f.idle[:n-1]
	}
	if env != nil {
		f.busy[env] = true
	}
	f.mu.Unlock()

	initMs := -1.0
	if env == nil {
		var initErr *runtimeapi.FunctionError
		var initOut string
		env, initMs, initErr, initOut = s.startEnvironment(r.Context(), f, gen)
		if initErr != nil {
			// Lambda reports the failed init, and the invocation fails
			// with the error.
			init := fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s\n", initMs, initErr.Type)
			tail := initStart + initOut + init + fmt.Sprintf("START RequestId: %s Version: $LATEST\nEND RequestId: %s\n", reqID, reqID) +
				fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\tStatus: error\tError Type: %s\n", reqID, initMs, billed(initMs), f.memoryMB, 0, initErr.Type)
			answer(w, r, reqID, "Unhandled", errorDocument(initErr), tail)
			return
		}
		f.mu.Lock()
		f.busy[env] = true
		f.mu.Unlock()
	}

	// A cold invocation's log has the init phase too: Lambda's
	// INIT_START line and what the function wrote while starting.
	_, mark := env.out.since(0)
	if initMs >= 0 {
		mark = 0
		log.WriteString(initStart)
	}
	timeout := time.Duration(f.timeoutS) * time.Second
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	res, err := env.sess.Server.InvokeRequest(ctx, runtimeapi.Request{Payload: payload})
	cancel()
	out, _ := env.out.since(mark)
	if err == nil && res.RequestID != "" {
		reqID = res.RequestID // the id the function saw
	}
	// What the function wrote before its first /next comes before START.
	initOut, invokeOut := "", out
	if initMs >= 0 {
		initOut, invokeOut = out[:min(env.initBytes, len(out))], out[min(env.initBytes, len(out)):]
	}
	log.WriteString(initOut)
	fmt.Fprintf(&log, "START RequestId: %s Version: $LATEST\n", reqID)
	log.WriteString(invokeOut)

	f.mu.Lock()
	delete(f.busy, env)
	alive := err == nil && res.Error == nil
	if alive && env.generation == f.generation {
		f.idle = append(f.idle, env)
	} else {
		defer env.stop()
	}
	f.mu.Unlock()

	if err != nil {
		// The runtime died or did not answer in time.
		typ, msg := "Runtime.ExitError", "RequestId: "+reqID+" Error: Runtime exited without providing a reason"
		if ctx.Err() != nil {
			typ, msg = "Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %d.00 seconds", reqID, f.timeoutS)
		}
		fe := &runtimeapi.FunctionError{Type: typ, Message: msg}
		dur := float64(timeout.Milliseconds())
		fmt.Fprintf(&log, "END RequestId: %s\n", reqID)
		log.WriteString(report(reqID, dur, initMs, f.memoryMB, peakMB(env.stream)) + "\tStatus: error\tError Type: " + typ + "\n")
		answer(w, r, reqID, "Unhandled", errorDocument(fe), log.String())
		return
	}
	dur := float64(res.Done.Sub(res.Sent)) / float64(time.Millisecond)
	fmt.Fprintf(&log, "END RequestId: %s\n", reqID)
	log.WriteString(report(reqID, dur, initMs, f.memoryMB, peakMB(env.stream)) + "\n")
	if res.Error != nil {
		answer(w, r, reqID, "Unhandled", errorDocument(res.Error), log.String())
		return
	}
	answer(w, r, reqID, "", res.Body, log.String())
}

// startEnvironment starts a new copy of f and waits for its first /next:
// the init phase.
func (s *Server) startEnvironment(ctx context.Context, f *function, gen int) (*environment, float64, *runtimeapi.FunctionError, string) {
	env := &environment{generation: gen, out: &lockedBuffer{}}
	t, err := f.target(ctx, env)
	if err != nil {
		return nil, 0, &runtimeapi.FunctionError{Type: "Runtime.InvalidEntrypoint", Message: err.Error()}, ""
	}
	sess, err := verify.StartSession(context.WithoutCancel(ctx), t, verify.SessionOptions{
		Function: verify.Function{Name: f.name, MemoryMB: f.memoryMB, Region: Region, Env: f.envList()},
		Timeout:  time.Duration(f.timeoutS) * time.Second,
		Output:   env.out,
	})
	if err != nil {
		return nil, 0, &runtimeapi.FunctionError{Type: "Runtime.InvalidEntrypoint", Message: err.Error()}, ""
	}
	env.sess = sess
	initCtx, cancel := context.WithTimeout(sess.Context(), verify.InitLimit)
	next, err := sess.Server.WaitNext(initCtx)
	cancel()
	if err != nil {
		ms := float64(time.Since(sess.Started())) / float64(time.Millisecond)
		fe := sess.Server.InitError()
		if fe == nil {
			select {
			case <-sess.Exited():
				fe = &runtimeapi.FunctionError{Type: "Runtime.ExitError", Message: "RequestId: Error: Runtime exited with error: " + sess.ExitText()}
			default:
				fe = &runtimeapi.FunctionError{Type: "Sandbox.Timedout", Message: "the runtime did not ask for an event within the init limit"}
			}
		}
		_ = sess.Stop()
		out, _ := env.out.since(0)
		return nil, ms, fe, out
	}
	_, env.initBytes = env.out.since(0)
	return env, float64(next.Sub(sess.Started())) / float64(time.Millisecond), nil, ""
}

// initStart is Lambda's first line of a new environment's log.
const initStart = "INIT_START Runtime Version: provided:al2023.v100\tRuntime Version ARN: arn:aws:lambda:" + Region + "::runtime:fnopt-lambdatest\n"

// target is how a new environment of f starts: a zip's bootstrap as a
// host process (arm64 under qemu-aarch64-static on another machine), an
// image in the sandbox.
func (f *function) target(ctx context.Context, env *environment) (*verify.Target, error) {
	if f.packageType == "Image" {
		img, err := f.imageTarget(ctx)
		if err != nil {
			return nil, err
		}
		t := *img
		t.Starter = &sandboxStreamStarter{Starter: img.Starter, stream: &env.stream}
		return &t, nil
	}
	boot := filepath.Join(f.taskRoot, "bootstrap")
	if err := checkMachine(boot, f.arch); err != nil {
		return nil, err
	}
	st := &streamStarter{HostStarter: verify.HostStarter{Bootstrap: boot, Dir: f.taskRoot}, stream: &env.stream}
	if f.arch == "arm64" && runtime.GOARCH != "arm64" {
		qemu, err := exec.LookPath("qemu-aarch64-static")
		if err != nil {
			return nil, errors.New("the double needs qemu-aarch64-static to run arm64 functions (Debian qemu-user-static)")
		}
		st.HostStarter = verify.HostStarter{Bootstrap: qemu, Args: []string{boot}, Dir: f.taskRoot}
	}
	return &verify.Target{Name: f.name, Starter: st, TaskRoot: f.taskRoot}, nil
}

// answer writes Invoke's response: the payload, the version, the request
// id, the function error when there is one, and the last 4 KB of the log
// in base64 when the caller asked for the tail.
func answer(w http.ResponseWriter, r *http.Request, reqID, fnErr string, body []byte, log string) {
	h := w.Header()
	h.Set("X-Amzn-RequestId", reqID)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if fnErr != "" {
		h.Set("X-Amz-Function-Error", fnErr)
	}
	if r.Header.Get("X-Amz-Log-Type") == "Tail" {
		if len(log) > 4096 {
			log = log[len(log)-4096:]
		}
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(log)))
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(200)
	_, _ = w.Write(body)
}

// report is a REPORT line in Lambda's text format (without its newline).
func report(reqID string, durMs, initMs float64, memoryMB, usedMB int) string {
	billedMs := durMs
	if initMs >= 0 {
		billedMs += initMs // custom runtimes are billed their init
	}
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB", reqID, durMs, billed(billedMs), memoryMB, usedMB)
	if initMs >= 0 {
		line += fmt.Sprintf("\tInit Duration: %.2f ms", initMs)
	}
	return line + "\t"
}

func billed(ms float64) int { return int(math.Ceil(ms)) }

func errorDocument(fe *runtimeapi.FunctionError) []byte {
	b, _ := json.Marshal(map[string]string{"errorType": fe.Type, "errorMessage": fe.Message})
	return b
}

// peakMB is the peak resident memory of the process whose environment
// has the log stream name (the bootstrap, or qemu running it), in MB
// rounded up, as Max Memory Used counts whole MB.
func peakMB(stream string) int {
	if stream == "" {
		return 0
	}
	want := []byte("AWS_LAMBDA_LOG_STREAM_NAME=" + stream + "\x00")
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		status, err := os.ReadFile(filepath.Join(d, "status"))
		if err != nil {
			return 0
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				return (kb + 1023) / 1024
			}
		}
	}
	return 0
}

// checkMachine refuses a bootstrap that is not an ELF file for arch, as
// Lambda fails to exec one ("exec format error").
func checkMachine(path, arch string) error {
	ef, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("couldn't find valid bootstrap(s): [/var/task/bootstrap]: %v", err)
	}
	defer ef.Close()
	want := elf.EM_X86_64
	if arch == "arm64" {
		want = elf.EM_AARCH64
	}
	if ef.Machine != want {
		return fmt.Errorf("fork/exec /var/task/bootstrap: exec format error (a %v binary on %s)", ef.Machine, arch)
	}
	return nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// envList is f's environment variables as KEY=VALUE, as Lambda gives them
// to each new execution environment, in a stable order.
func (f *function) envList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.env))
	for k, v := range f.env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
