package templates_test

import (
	"archive/zip"
	"context"
	"debug/elf"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	// The official client's projects build offline from the module cache;
	// this import makes `go test` put aws-lambda-go there.
	_ "github.com/aws/aws-lambda-go/events"

	"github.com/fnopt/fnopt/internal/awsref"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/procgroup"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/templates"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// goEnv builds generated projects offline (loopback only), with the local
// toolchain and the shared build and module caches.
func goEnv() []string {
	return append(os.Environ(), "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOTOOLCHAIN=local", "GOWORK=off")
}

func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// TestGeneratedGoProjects renders every Go project (both clients, every
// event, both architectures), builds each with its own `make build`, runs
// each project's own tests once, and runs functions as real processes
// against the Runtime API emulator. One test so the builds are shared.
func TestGeneratedGoProjects(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 24 projects")
	}
	root := t.TempDir()
	host := settings.HostArch()
	var mu sync.Mutex
	bootstraps := map[string]string{} // client/event → bootstrap for the host
	// The builds run two at a time: most of a build is the linker, which
	// uses one core.
	t.Run("build", func(t *testing.T) {
		for _, client := range templates.Choices["client"] {
			for _, event := range templates.Choices["event"] {
				for _, arch := range templates.Choices["arch"] {
					o := templates.Options{Name: "fn-" + event, Lang: "go", Event: event, Arch: settings.Arch(arch), Package: "zip", Client: config.Client(client)}
					dir := filepath.Join(root, client+"-"+event+"-"+arch)
					t.Run(client+"/"+event+"/"+arch, func(t *testing.T) {
						t.Parallel()
						buildProject(t, dir, o)
						if arch == string(host) && !t.Failed() {
							mu.Lock()
							bootstraps[client+"/"+event] = filepath.Join(dir, "dist", "bootstrap")
							mu.Unlock()
						}
					})
				}
			}
		}
	})
	t.Run("contract/minimal", func(t *testing.T) {
		dir := filepath.Join(root, "minimal-raw-"+string(host))
		if bootstraps["minimal/raw"] == "" {
			t.Skip("the build failed")
		}
		testMinimalContract(t, dir)
	})
	for _, client := range templates.Choices["client"] {
		t.Run("invoke/"+client, func(t *testing.T) {
			raw := bootstraps[client+"/raw"]
			if raw == "" {
				t.Skip("the build failed")
			}
			srv := startFunction(t, raw, nil)
			ok := invoke(t, srv, `{"name": "fnopt"}`)
			if ok.Error != nil || string(ok.Body) != `{"message":"Hello, fnopt!"}` {
				t.Errorf("invocation: body %s, error %v", ok.Body, ok.Error)
			}
			bad := invoke(t, srv, `{"name": ""}`)
			if bad.Error == nil || bad.Error.Type != "InvalidName" || bad.Error.Message != "name must not be empty" {
				t.Errorf("handler error reached /error as %+v (body %s), want InvalidName: name must not be empty", bad.Error, bad.Body)
			}
			// Still serving after an error.
			if again := invoke(t, srv, `{}`); string(again.Body) != `{"message":"Hello, world!"}` {
				t.Errorf("after an error: body %s, error %v", again.Body, again.Error)
			}
		})
		t.Run("invoke-http-sample/"+client, func(t *testing.T) {
			bin := bootstraps[client+"/http"]
			if bin == "" {
				t.Skip("the build failed")
			}
			sample, err := awsref.Event("apigw-v2-request-no-authorizer.json")
			if err != nil {
				t.Fatal(err)
			}
			res := invoke(t, startFunction(t, bin, nil), string(sample))
			var resp struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			if err := json.Unmarshal(res.Body, &resp); err != nil || resp.StatusCode != 200 || resp.Body != `{"message":"Hello from GET /"}` {
				t.Errorf("response %s (%v), error %v", res.Body, err, res.Error)
			}
		})
	}
}

// buildProject writes o's project into dir and builds it with its own
// Makefile; for the host's architecture it also runs the project's own
// tests (the handler fed the AWS sample event and, minimal, the runtime
// client's tests) and, for the raw event, makes the zip.
func buildProject(t *testing.T, dir string, o templates.Options) {
	writeProject(t, dir, o)
	run(t, dir, "make", "build")
	checkBootstrap(t, filepath.Join(dir, "dist", "bootstrap"), o.Arch)
	if o.Arch != settings.HostArch() {
		return
	}
	// What the next steps and the README say to run.
	run(t, dir, "make", "test")
	if o.Event == "raw" {
		run(t, dir, "make", "zip")
		checkZip(t, filepath.Join(dir, "dist", "function.zip"))
		// The Makefile says fnopt build writes the same zip.
		sameZipAsFnopt(t, filepath.Join(dir, "dist"))
		sameBuildAsFnopt(t, dir, o)
		samBuildTarget(t, dir, run)
	}
}

// checkBootstrap: an ELF for the arch, static (no interpreter) and
// stripped (no symbol table), as fnopt's settings promise.
func checkBootstrap(t *testing.T, path string, arch settings.Arch) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != arch.ELFMachine() {
		t.Errorf("%s is for %v, want %v", path, f.Machine, arch.ELFMachine())
	}
	if testenv.HasInterp(f) {
		t.Errorf("%s is dynamically linked", path)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s has a symbol table: not stripped", path)
	}
}

func checkZip(t *testing.T, path string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		for _, f := range zr.File {
			t.Logf("%s %v", f.Name, f.Mode())
		}
		t.Fatal("the zip must hold exactly bootstrap, mode 0755, at its root")
	}
}

// startFunction runs bootstrap as a process against a fresh Runtime API
// emulator and waits for its first /next.
func startFunction(t *testing.T, bootstrap string, env []string) *runtimeapi.Server {
	t.Helper()
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "fn", MemoryMB: 128, Timeout: 10 * time.Second})
	ts := httptest.NewServer(srv)
	cmd := exec.Command(bootstrap)
	cmd.Env = append([]string{"AWS_LAMBDA_RUNTIME_API=" + ts.Listener.Addr().String(), "PATH=/usr/bin:/bin"}, env...)
	procgroup.Set(cmd)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = procgroup.Kill(cmd.Process)
		<-exited
		srv.Close()
		ts.Close()
		if t.Failed() {
			t.Logf("function output:\n%s", stderr.String())
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := srv.WaitNext(ctx); err != nil && srv.InitError() == nil {
		t.Fatalf("the function never asked for an event: %v\n%s", err, stderr.String())
	}
	return srv
}

func invoke(t *testing.T, srv *runtimeapi.Server, payload string) *runtimeapi.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := srv.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return res
}

// contractMain is a function on the minimal client that shows what the
// runtime gave it, panics on request, and fails its init when told to.
const contractMain = `package main

import (
	"context"
	"errors"
	"os"
	"time"

	"MODULE/internal/lambda"
)

type seen struct {
	RequestID, FunctionArn, TraceEnv, TraceCtx string
	DeadlineMs, CtxDeadlineMs                  int64
}

func main() {
	if os.Getenv("FAIL_INIT") != "" {
		lambda.InitError(errors.New("no configuration"))
	}
	lambda.Start(func(ctx context.Context, in map[string]bool) (seen, error) {
		if in["panic"] {
			panic("boom")
		}
		lc, _ := lambda.FromContext(ctx)
		d, _ := ctx.Deadline()
		return seen{lc.AwsRequestID, lc.InvokedFunctionArn, os.Getenv("_X_AMZN_TRACE_ID"), lc.TraceID,
			lc.Deadline.UnixMilli(), d.Round(time.Millisecond).UnixMilli()}, nil
	})
}
`

// testMinimalContract runs the minimal client's contract points against
// the emulator as a real process: metadata and deadline, the trace
// header in the environment, a panic reported as an error (and the
// process ending), and an init error.
func testMinimalContract(t *testing.T, dir string) {
	if err := os.MkdirAll(filepath.Join(dir, "contract"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := strings.ReplaceAll(contractMain, "MODULE", "fn-raw")
	if err := os.WriteFile(filepath.Join(dir, "contract", "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dist", "contract")
	run(t, dir, "go", "build", "-o", bin, "./contract")

	srv := startFunction(t, bin, nil)
	res := invoke(t, srv, `{}`)
	var got struct {
		RequestID, FunctionArn, TraceEnv, TraceCtx string
		DeadlineMs, CtxDeadlineMs                  int64
	}
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatalf("response %s: %v (error %v)", res.Body, err, res.Error)
	}
	if got.RequestID != res.RequestID || got.FunctionArn != srv.FunctionARN() {
		t.Errorf("context: request %q arn %q, want %q %q", got.RequestID, got.FunctionArn, res.RequestID, srv.FunctionARN())
	}
	if got.TraceEnv == "" || got.TraceEnv != got.TraceCtx {
		t.Errorf("_X_AMZN_TRACE_ID = %q, Lambda-Runtime-Trace-Id = %q", got.TraceEnv, got.TraceCtx)
	}
	if want := res.Sent.Add(10 * time.Second).UnixMilli(); got.DeadlineMs < want-1000 || got.DeadlineMs > want+1000 || got.CtxDeadlineMs != got.DeadlineMs {
		t.Errorf("deadline %d, context deadline %d, want about %d", got.DeadlineMs, got.CtxDeadlineMs, want)
	}
	p := invoke(t, srv, `{"panic": true}`)
	if p.Error == nil || p.Error.Type != "string" || p.Error.Message != "boom" || len(p.Error.StackTrace) == 0 {
		t.Errorf("panic reported as %+v", p.Error)
	}

	initSrv := startFunction(t, bin, []string{"FAIL_INIT=1"})
	if e := initSrv.InitError(); e == nil || e.Type != "errorString" || e.Message != "no configuration" {
		t.Errorf("init error = %+v", e)
	}
}
