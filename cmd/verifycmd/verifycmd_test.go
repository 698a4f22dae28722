package verifycmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/schematest"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/sandbox"
)

var fakefn string // verify/testdata/fakefn, built once

func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	runAsVerify()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fnopt-verifycmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	fakefn = filepath.Join(dir, "fakefn")
	cmd := exec.Command("go", "build", "-o", fakefn, "../../verify/testdata/fakefn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building fakefn: %v\n%s", err, out)
		return 2
	}
	return m.Run()
}

// bootstrap links fakefn as DIR/<mode>/bootstrap (its folder name picks
// its behaviour).
func bootstrap(t *testing.T, mode string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), mode)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "bootstrap")
	if err := os.Link(fakefn, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is safe for the concurrent writes --serve makes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// execute runs `fnopt verify args...` and returns stdout, stderr and the
// exit status.
func execute(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ios := &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
	cmd := NewCmd(ios)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.UsageError(err) })
	// Generous: --against builds two projects, slowly under -race.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	code := cmdutil.Report(errOut, cmd.ExecuteContext(ctx))
	return out.String(), errOut.String(), code
}

func TestText(t *testing.T) {
	out, errOut, code := execute(t, bootstrap(t, "echo"), "--samples", "6", "--warm", "2", "--expect", `{"hello":"world"}`)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	for _, want := range []string{"6 cold starts, 2 warm invocations each", "init", "first invoke", "cold start", "warm invoke", "peak RSS", "p50 95% CI", "artifact (", "machine: ", "\nok\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr not empty without a terminal: %q", errOut)
	}
}

func TestJSON(t *testing.T) {
	out, _, code := execute(t, bootstrap(t, "echo"), "--samples", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	schema := schematest.Load(t, "verify.v1.schema.json")
	schema.Validate(t, []byte(out))
	warm, _, code := execute(t, bootstrap(t, "echo"), "--samples", "2", "--warm", "2", "--expect", `{"hello":"world"}`, "--json")
	if code != 0 {
		t.Fatalf("--warm: exit %d: %s", code, warm)
	}
	schema.Validate(t, []byte(warm))
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if doc["schema"] != Schema || doc["ok"] != true || doc["samples"] != 3.0 {
		t.Errorf("schema/ok/samples: %v %v %v", doc["schema"], doc["ok"], doc["samples"])
	}
	for _, m := range []string{"init_ms", "first_invoke_ms", "cold_start_ms", "max_rss_bytes"} {
		s, ok := doc[m].(map[string]any)
		if !ok {
			t.Errorf("%s missing", m)
			continue
		}
		for _, k := range []string{"p50", "p90", "p99", "min", "max", "mean", "ci_low", "ci_high"} {
			if _, ok := s[k]; !ok {
				t.Errorf("%s.%s missing", m, k)
			}
		}
	}
	if doc["warm_invoke_ms"] != nil {
		t.Errorf("warm_invoke_ms without --warm: %v", doc["warm_invoke_ms"])
	}
	machine, _ := doc["machine"].(map[string]any)
	for _, k := range []string{"cpu", "kernel", "arch"} {
		if machine[k] == "" || machine[k] == nil {
			t.Errorf("machine.%s empty", k)
		}
	}
	if sizes, _ := doc["artifact"].(map[string]any)["sizes"].([]any); len(sizes) == 0 {
		t.Errorf("no artifact sizes: %v", doc["artifact"])
	}
}

func TestFailedFunction(t *testing.T) {
	out, _, code := execute(t, bootstrap(t, "crash"), "--samples", "2")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"FAILED in sample 1, init", "exit status 3", "fakefn: panic: config missing"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = execute(t, bootstrap(t, "error"), "--samples", "2", "--json")
	schematest.Load(t, "verify.v1.schema.json").Validate(t, []byte(out))
	var doc struct {
		OK      bool `json:"ok"`
		Failure struct {
			ErrorType string `json:"error_type"`
		} `json:"failure"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 1 || doc.OK || doc.Failure.ErrorType != "HandlerError" {
		t.Errorf("exit %d, %+v, %v:\n%s", code, doc, err, out)
	}
}

func TestBadInput(t *testing.T) {
	boot := bootstrap(t, "echo")
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{boot, "--samples", "0"}, "--samples 0"},
		{[]string{boot, "--memory", "64"}, "128 to 10240"},
		{[]string{boot, "--expect", "{not json"}, "--expect"},
		{[]string{boot, "--expect", "/(/"}, "--expect /(/"},
		{[]string{boot, "--event", bad}, "not valid JSON"},
		{[]string{filepath.Join(t.TempDir(), "missing")}, "no such file"},
		{[]string{boot, "--no-such-flag"}, "unknown flag"},
	}
	for _, tt := range tests {
		_, errOut, code := execute(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
	}
}

// serve runs `fnopt verify --serve` in the background and returns the
// invoke URL it prints, and a function that stops it and returns its
// exit status.
func serve(t *testing.T, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	ios := &cmdutil.IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
	cmd := NewCmd(ios)
	cmd.SetArgs(append([]string{"--serve", "--listen", "127.0.0.1:0"}, args...))
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- cmdutil.Report(errOut, cmd.ExecuteContext(ctx)) }()
	urlRE := regexp.MustCompile(`http://127\.0\.0\.1:\d+/2015-03-31/functions/function/invocations`)
	deadline := time.Now().Add(time.Minute)
	for !urlRE.MatchString(errOut.String()) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no invoke URL printed: %s", errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return urlRE.FindString(errOut.String()), errOut, func() int { cancel(); return <-done }
}

func invoke(t *testing.T, url, body string) (string, http.Header) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.Header
}

func TestServe(t *testing.T) {
	url, errOut, stop := serve(t, bootstrap(t, "echo"))
	for _, ev := range []string{`{"a":1}`, `{"a":2}`} {
		if got, h := invoke(t, url, ev); got != ev || h.Get("X-Amzn-RequestId") == "" {
			t.Errorf("invoke %s = %s %v", ev, got, h)
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestServeRestartsAfterCrash(t *testing.T) {
	url, errOut, stop := serve(t, bootstrap(t, "segv"))
	if _, h := invoke(t, url, `{}`); h.Get("X-Amzn-ErrorType") == "" && h.Get("X-Amz-Function-Error") == "" {
		t.Errorf("invoking a function that dies: headers %v", h)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), "starting a fresh copy") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut.String(), "the function exited (signal: segmentation fault)") {
		t.Errorf("no exit report: %s", errOut)
	}
}

func TestServeExternal(t *testing.T) {
	url, errOut, stop := serve(t, "--external")
	defer stop()
	api := regexp.MustCompile(`AWS_LAMBDA_RUNTIME_API=(\S+)`).FindStringSubmatch(errOut.String())
	if api == nil {
		t.Fatalf("no runtime API address printed: %s", errOut)
	}
	boot := bootstrap(t, "echo")
	fn := exec.Command(boot)
	fn.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + api[1], "LAMBDA_TASK_ROOT=" + filepath.Dir(boot)}
	if err := fn.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { fn.Process.Kill(); fn.Wait() }()
	if got, _ := invoke(t, url, `{"x":true}`); got != `{"x":true}` {
		t.Errorf("invoke through the external function = %q", got)
	}
}

// TestFailureExitStatus: every way a function can fail ends `fnopt verify`
// with status 1, and no process of it is left.
func TestFailureExitStatus(t *testing.T) {
	for _, tt := range []struct {
		mode string
		args []string
		want string
	}{
		{"crash", nil, "exit status 3"},
		{"initerror", nil, "Runtime.ConfigError"},
		{"error", nil, "HandlerError"},
		{"big", nil, "Function.ResponseSizeTooLarge"},
		{"segv", nil, "signal: segmentation fault"},
		{"noanswer", []string{"--timeout", "300ms"}, "Sandbox.Timedout"},
		{"echo", []string{"--expect", `{"other":1}`}, "expected {\"other\":1}"},
	} {
		out, errOut, code := execute(t, append([]string{bootstrap(t, tt.mode), "--samples", "2"}, tt.args...)...)
		if code != 1 || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d, want 1 with %q:\n%s%s", tt.mode, code, tt.want, out, errOut)
		}
		if left := running(t, "/"+tt.mode+"/bootstrap"); len(left) != 0 {
			t.Errorf("%s: processes left: %v", tt.mode, left)
		}
	}
}

// running lists the processes whose command line contains s.
func running(t *testing.T, s string) []testenv.Process {
	t.Helper()
	var out []testenv.Process
	for _, p := range testenv.Processes(t) {
		if strings.Contains(p.Cmdline, s) {
			out = append(out, p)
		}
	}
	return out
}

// TestMemoryNotes: a memory limit asked for with --memory is reported,
// enforced or not; one nobody asked for is applied silently where the
// machine allows it, and its absence is not mentioned.
func TestMemoryNotes(t *testing.T) {
	why := verify.DetectCgroups().Unavailable()
	tests := []struct {
		name     string
		args     []string
		want     string // in the output; "" for nothing about memory
		wantJSON bool   // settings.memory_limited
	}{
		{"not asked", nil, "", why == ""},
		{"asked", []string{"--memory", "256"}, "memory limit not enforced: " + why, false},
	}
	if why == "" {
		tests[1].want, tests[1].wantJSON = "memory: 256 MB, enforced", true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			boot := bootstrap(t, "echo")
			out, errOut, code := execute(t, append([]string{boot, "--samples", "2"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s%s", code, out, errOut)
			}
			if tt.want != "" && !strings.Contains(out, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out)
			}
			if tt.want == "" && why != "" && strings.Contains(out, "memory") {
				t.Errorf("output mentions a memory limit nobody asked for:\n%s", out)
			}
			out, _, _ = execute(t, append([]string{boot, "--samples", "2", "--json"}, tt.args...)...)
			var doc Report
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Settings.MemoryLimited != tt.wantJSON {
				t.Errorf("memory_limited %v, want %v", doc.Settings.MemoryLimited, tt.wantJSON)
			}
		})
	}
}

// TestCrossCheck: a project that deploys to another architecture is
// measured as a host build, and its deployed build is run once under
// qemu, or a note says qemu is missing.
func TestCrossCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function twice")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not installed")
	}
	other := settings.ARM64
	if settings.HostArch() == settings.ARM64 {
		other = settings.X86_64 // no qemu for it: the note
	}
	dir := t.TempDir()
	for _, name := range []string{"main.go", "work.go", "go.mod", "fnopt.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "gateexperiment", "function", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(data), "{{.InitWork}}", "0")
		s = strings.ReplaceAll(s, "{{.Arch}}", string(other))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := execute(t, dir, "--samples", "2", "--json")
	schematest.Load(t, "verify.v1.schema.json").Validate(t, []byte(out))
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	var doc Report
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if verify.QemuPath(other) == "" {
		want := "qemu-aarch64-static not found: the " + string(other) + " build was not run"
		if doc.Functional != nil || !strings.Contains(strings.Join(doc.Notes, "\n"), want) {
			t.Errorf("without qemu: functional %+v, notes %q; want a note %q", doc.Functional, doc.Notes, want)
		}
		return
	}
	if f := doc.Functional; f == nil || !f.OK || f.Arch != other || f.Runner != verify.QemuPath(other) || f.Error != "" {
		t.Errorf("functional check %+v, want an ok run of the %s build", doc.Functional, other)
	}
}
