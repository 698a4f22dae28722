package verify

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

func TestMeasureEcho(t *testing.T) {
	exp, err := ParseExpect(`{ "hello" : "world" }`)
	if err != nil {
		t.Fatal(err)
	}
	runs := measure(t, Options{Samples: 3, Warm: 2, Expect: exp}, fakeTarget(t, "echo"))
	r := runs[0]
	if !r.OK() || len(r.Samples) != 3 {
		t.Fatalf("run: ok=%v failure=%v samples=%d", r.OK(), r.Failure, len(r.Samples))
	}
	for i, s := range r.Samples {
		if s.InitMs <= 0 || s.FirstInvokeMs <= 0 || len(s.WarmMs) != 2 || s.MaxRSSBytes <= 0 {
			t.Errorf("sample %d incomplete: %+v", i, s)
		}
		// Cold start spans init, the hand-over and the first invocation.
		if s.ColdStartMs < s.InitMs+s.FirstInvokeMs {
			t.Errorf("sample %d: cold start %.3f < init %.3f + first invoke %.3f", i, s.ColdStartMs, s.InitMs, s.FirstInvokeMs)
		}
	}
	if len(ourChildren(t)) != 0 {
		t.Errorf("processes left: %v", ourChildren(t))
	}
}

func TestEnvironment(t *testing.T) {
	tg := fakeTarget(t, "env")
	runs := measure(t, Options{Samples: 1,
		Expect: mustExpect(t, `/AWS_LAMBDA_RUNTIME_API=127\.0\.0\.1:\d+\n/`)}, tg)
	if !runs[0].OK() {
		t.Fatal(runs[0].Failure)
	}
	// Start it once more in a session to read the body.
	body := invokeOnce(t, tg)
	env := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	want := map[string]string{
		"_HANDLER":                        "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        "function",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/function",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"LAMBDA_TASK_ROOT":                tg.TaskRoot,
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"PWD":                             tg.TaskRoot,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if !strings.Contains(env["LD_LIBRARY_PATH"], tg.TaskRoot+"/lib") {
		t.Errorf("LD_LIBRARY_PATH %q lacks the task root", env["LD_LIBRARY_PATH"])
	}
	if !strings.Contains(env["AWS_LAMBDA_LOG_STREAM_NAME"], "/[$LATEST]") {
		t.Errorf("log stream name %q", env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	for _, k := range []string{"HOME", "AWS_ACCESS_KEY_ID", "GOPATH", "USER", "AWS_EXECUTION_ENV"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s leaked into the function's environment", k)
		}
	}
}

func mustExpect(t *testing.T, s string) *Expect {
	t.Helper()
	e, err := ParseExpect(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// invokeOnce starts tg by hand and returns its first answer.
func invokeOnce(t *testing.T, tg *Target) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := StartSession(ctx, tg, SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sess.Server.Invoke(sess.Context(), []byte(`{}`))
	if serr := sess.Stop(); serr != nil {
		t.Error(serr)
	}
	if err != nil {
		t.Fatalf("invoke: %v; output: %s", err, sess.Output())
	}
	return string(res.Body)
}

func TestInitDuration(t *testing.T) {
	// The same binary with and without a 250 ms sleep before its first
	// /next. Init is measured from just before exec, so it can never be
	// shorter than the sleep: the lower bound is exact. Above it, the
	// figure also holds exec, the Go runtime's start and the connection:
	// what the echo mode's init measures. The upper bound allows that plus
	// 100 ms for scheduling on a loaded shared machine (sleep itself
	// overshoots by well under 1 ms on an idle one).
	const sleep = 250.0
	runs := measure(t, Options{Samples: 3}, fakeTarget(t, "echo"), fakeTarget(t, "sleep250"))
	for _, r := range runs {
		if !r.OK() {
			t.Fatal(r.Failure)
		}
	}
	echo, slept := Values(runs[0].Samples, MetricInit), Values(runs[1].Samples, MetricInit)
	if lo := slices.Min(slept); lo < sleep {
		t.Errorf("init %.2f ms is shorter than the %v ms sleep", lo, sleep)
	}
	if lo, limit := slices.Min(slept), sleep+slices.Max(echo)+100; lo > limit {
		t.Errorf("init %.2f ms, want at most %.2f (sleep + slowest plain init %.2f + 100)", lo, limit, slices.Max(echo))
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		mode    string
		opts    Options
		phase   string
		reason  string // in Failure.Reason
		errType string // Failure.FunctionError.Type
		exit    string // in Failure.Exit
		// uncontained starts the function without a PID namespace.
		uncontained bool
	}{
		{mode: "crash", phase: "init", reason: "exited before asking", exit: "exit status 3"},
		{mode: "hang", opts: Options{InitTimeout: 300 * time.Millisecond}, phase: "init", reason: "no /next within 300ms"},
		{mode: "initerror", phase: "init", reason: "init error", errType: "Runtime.ConfigError"},
		{mode: "error", phase: "first invoke", reason: "invocation failed", errType: "HandlerError"},
		{mode: "big", phase: "first invoke", reason: "invocation failed", errType: runtimeapi.ErrorTypeResponseTooLarge},
		{mode: "signal", uncontained: true, phase: "first invoke", reason: "exited before answering", exit: "signal: killed"},
		// Contained, the function is PID 1 of its namespace, and the
		// kernel ignores the SIGKILL it sends itself (docs/verify.md).
		{mode: "signal", opts: Options{Timeout: 300 * time.Millisecond}, phase: "first invoke", reason: "invocation failed", errType: runtimeapi.ErrorTypeTimeout},
		// A fault's default action still kills it.
		{mode: "segv", phase: "first invoke", reason: "exited before answering", exit: "signal: segmentation fault"},
		{mode: "noanswer", opts: Options{Timeout: 300 * time.Millisecond}, phase: "first invoke", reason: "invocation failed", errType: runtimeapi.ErrorTypeTimeout},
		{mode: "echo", opts: Options{Expect: &Expect{}}, phase: "first invoke", reason: "does not match"},
		{mode: "echo", opts: Options{Warm: 2, Event: []byte(`"x"`)}, phase: "", reason: ""},
	}
	before := openFDs(t)
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			if tt.opts.Expect != nil {
				tt.opts.Expect = mustExpect(t, `/nothing like this/`)
			}
			tt.opts.Samples = 2
			tg := fakeTarget(t, tt.mode)
			tg.Starter.(*HostStarter).uncontained = tt.uncontained
			runs := measure(t, tt.opts, tg)
			f := runs[0].Failure
			if tt.phase == "" {
				if f != nil {
					t.Fatalf("unexpected failure: %v", f)
				}
				return
			}
			if f == nil {
				t.Fatal("no failure")
			}
			if f.Phase != tt.phase || !strings.Contains(f.Reason+" "+f.Error(), tt.reason) || f.Sample != 1 {
				t.Errorf("failure %q (phase %q), want phase %q with %q in sample 1", f.Error(), f.Phase, tt.phase, tt.reason)
			}
			if tt.errType != "" && (f.FunctionError == nil || f.FunctionError.Type != tt.errType) {
				t.Errorf("function error %+v, want type %s", f.FunctionError, tt.errType)
			}
			if !strings.Contains(f.Exit, tt.exit) {
				t.Errorf("exit %q, want %q", f.Exit, tt.exit)
			}
			if !strings.Contains(f.Output, "fakefn: mode "+tt.mode) {
				t.Errorf("output tail lacks the function's stderr: %q", f.Output)
			}
			if len(runs[0].Samples) != 0 {
				t.Errorf("failed run kept %d samples", len(runs[0].Samples))
			}
		})
		if kids := ourChildren(t); len(kids) != 0 {
			t.Errorf("%s: processes left: %v", tt.mode, kids)
		}
	}
	// The http.Server's goroutines close their sockets asynchronously.
	deadline := time.Now().Add(2 * time.Second)
	for openFDs(t) > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := openFDs(t); after > before {
		t.Errorf("open file descriptors: %d before, %d after", before, after)
	}
}

func TestLingeringChildIsKilled(t *testing.T) {
	tg := fakeTarget(t, "fork")
	runs := measure(t, Options{Samples: 2, Expect: mustExpect(t, `/^\d+$/`)}, tg)
	if !runs[0].OK() {
		t.Fatal(runs[0].Failure)
	}
	// The child has the task root among its arguments.
	if left := processesNaming(t, tg.TaskRoot); len(left) != 0 {
		t.Errorf("lingering child still exists: %v", left)
	}
	if kids := ourChildren(t); len(kids) != 0 {
		t.Errorf("processes left: %v", kids)
	}
}

// TestDaemonIsContained runs a function that double-forks a daemon into a
// session of its own (setsid), holding the function's output open: it
// leaves both the process group and fnopt's reach as a subreaper (its
// parent exits at once, and the daemon is not in the group Kill ends).
// Contained, nothing is left once Measure returns, with a memory limit
// asked for or not (a limit this machine may not enforce: containment
// does not depend on cgroups), the daemon was asked to stop first and
// cleaned up, and no sample waits for the output the daemon held open
// (the wait for it used to be a second per sample).
func TestDaemonIsContained(t *testing.T) {
	for _, tt := range []struct {
		name     string
		memoryMB int
		cgroups  *Cgroups
	}{
		{"without a memory limit", 0, nil},
		{"with --memory", 128, DetectCgroups()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := fakeTarget(t, "daemon")
			tg.Starter.(*HostStarter).Cgroups = tt.cgroups
			fn := Function{MemoryMB: tt.memoryMB}
			runs := measure(t, Options{Samples: 2, Function: fn}, tg)
			if !runs[0].OK() {
				t.Fatal(runs[0].Failure)
			}
			if left := processesNaming(t, tg.TaskRoot); len(left) != 0 {
				t.Errorf("the daemon outlived verify: %v", left)
			}
			if kids := ourChildren(t); len(kids) != 0 {
				t.Errorf("processes left: %v", kids)
			}
			if _, err := os.Stat(filepath.Join(tg.TaskRoot, "cleaned-up")); err != nil {
				t.Errorf("the daemon was not stopped gently (no SIGTERM before the kill): %v", err)
			}
			// The end of a sample, timed alone (its three Go starts take
			// hundreds of ms on a loaded machine): a sample that waits for
			// the output the daemon held takes a second more; stopping
			// the daemon, the function and reaping them takes a few ms.
			for i := 0; i < 2; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				sess, err := StartSession(ctx, tg, SessionOptions{Function: fn})
				if err != nil {
					cancel()
					t.Fatal(err)
				}
				_, ierr := sess.Server.Invoke(sess.Context(), []byte(`{}`))
				t0 := time.Now()
				serr := sess.Stop()
				stop := time.Since(t0)
				cancel()
				if ierr != nil || serr != nil {
					t.Fatalf("invoke: %v, stop: %v; output: %s", ierr, serr, sess.Output())
				}
				if stop >= 500*time.Millisecond {
					t.Errorf("stopping the sample took %v: the output the daemon held was waited for", stop)
				}
			}
			if left := processesNaming(t, tg.TaskRoot); len(left) != 0 {
				t.Errorf("the daemon outlived its session: %v", left)
			}
			for _, n := range runs[0].Notes {
				if strings.Contains(n, "outlive") {
					t.Errorf("note %q: this machine runs tests as root, which has PID namespaces", n)
				}
			}
		})
	}
}

// processesNaming lists the processes with s in their command line.
func processesNaming(t *testing.T, s string) []testenv.Process {
	t.Helper()
	var out []testenv.Process
	for _, p := range testenv.Processes(t) {
		if strings.Contains(p.Cmdline, s) {
			out = append(out, p)
		}
	}
	return out
}

// orderStarter records the order in which targets start.
type orderStarter struct {
	Starter
	name  string
	mu    *sync.Mutex
	order *[]string
}

func (o orderStarter) Start(ctx context.Context, spec StartSpec) (Process, error) {
	o.mu.Lock()
	*o.order = append(*o.order, o.name)
	o.mu.Unlock()
	return o.Starter.Start(ctx, spec)
}

func TestMeasureInterleaves(t *testing.T) {
	var (
		mu    sync.Mutex
		order []string
	)
	a, b := fakeTarget(t, "echo"), fakeTarget(t, "echo")
	a.Starter = orderStarter{a.Starter, "A", &mu, &order}
	b.Starter = orderStarter{b.Starter, "B", &mu, &order}
	var progress []int
	runs := measure(t, Options{Samples: 3, Progress: func(done, total int) {
		if total != 6 {
			t.Errorf("progress total %d, want 6", total)
		}
		progress = append(progress, done)
	}}, a, b)
	if !runs[0].OK() || !runs[1].OK() || len(runs[0].Samples) != 3 || len(runs[1].Samples) != 3 {
		t.Fatalf("runs: %+v %+v", runs[0].Failure, runs[1].Failure)
	}
	if got := strings.Join(order, " "); got != "A B A B A B" {
		t.Errorf("order %q, want A B A B A B", got)
	}
	if !slices.Equal(progress, []int{1, 2, 3, 4, 5, 6}) {
		t.Errorf("progress %v", progress)
	}
}

func TestAWSLambdaGo(t *testing.T) {
	tg, err := PrepareBootstrap(testBins.lambdago, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runs := measure(t, Options{Samples: 2, Warm: 1, Expect: mustExpect(t, `/"greeting":"hello world","request_id":"[0-9a-f-]{36}","has_deadline":true/`)}, tg)
	if !runs[0].OK() {
		t.Fatalf("aws-lambda-go function: %v\n%s", runs[0].Failure, runs[0].Failure.Output)
	}
	// aws-lambda-go exits as soon as its request for work fails, which
	// closing the emulator makes happen: the peak RSS is read before that,
	// so no sample lacks it (it used to be missing now and then).
	runs = measure(t, Options{Samples: 20}, tg)
	for i, s := range runs[0].Samples {
		if s.MaxRSSBytes <= 0 {
			t.Errorf("sample %d has no peak RSS", i+1)
		}
	}
	runs = measure(t, Options{Samples: 1, Event: []byte(`{"fail":true}`)}, tg)
	f := runs[0].Failure
	if f == nil || f.FunctionError == nil || f.FunctionError.Message != "asked to fail" {
		t.Fatalf("failing aws-lambda-go function: %+v", f)
	}
}

func TestMemoryLimit(t *testing.T) {
	cg := DetectCgroups()
	tg := fakeTarget(t, "echo")
	tg.Starter.(*HostStarter).Cgroups = cg
	runs := measure(t, Options{Samples: 1}, tg)
	if !runs[0].OK() {
		t.Fatal(runs[0].Failure)
	}
	if why := cg.Unavailable(); why != "" {
		want := "memory limit not enforced: " + why
		if !slices.Contains(runs[0].Notes, want) {
			t.Errorf("notes %q lack %q", runs[0].Notes, want)
		}
		t.Skipf("cgroup v2 unavailable (%s): the limit itself is not tested here", why)
	}
	if len(runs[0].Notes) != 0 {
		t.Errorf("notes with cgroups available: %q", runs[0].Notes)
	}
	// 200 MB of touched memory under a 64 MB limit is killed.
	tg = fakeTarget(t, "alloc200")
	tg.Starter.(*HostStarter).Cgroups = cg
	runs = measure(t, Options{Samples: 1, Function: Function{MemoryMB: 64}}, tg)
	if f := runs[0].Failure; f == nil || !strings.Contains(f.Exit, "memory limit") {
		t.Errorf("over-limit function: %+v", f)
	}
}

// TestRunMemory: Run.Memory says whether the limit held and why not, and
// NotesWithoutMemory leaves out just the notes it made of that.
func TestRunMemory(t *testing.T) {
	unusable := detectCgroups(t.TempDir()) // not a cgroup hierarchy
	why := unusable.Unavailable()
	type test struct {
		name          string
		cgroups       *Cgroups
		want          MemoryLimit
		wantNotes     []string
		wantNotesLeft []string
	}
	tests := []test{
		{"no cgroups given", nil, MemoryLimit{}, []string{"target note"}, []string{"target note"}},
		{"cgroups unusable", unusable, MemoryLimit{Reasons: []string{why}}, []string{"target note", "memory limit not enforced: " + why}, []string{"target note"}},
	}
	if usable := DetectCgroups(); usable.Unavailable() == "" {
		tests = append(tests, test{"cgroups usable", usable, MemoryLimit{Enforced: true}, []string{"target note"}, []string{"target note"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := fakeTarget(t, "echo")
			tg.Starter.(*HostStarter).Cgroups = tt.cgroups
			tg.Notes = []string{"target note"}
			run := measure(t, Options{Samples: 2}, tg)[0]
			if !run.OK() {
				t.Fatal(run.Failure)
			}
			if run.Memory.Enforced != tt.want.Enforced || !slices.Equal(run.Memory.Reasons, tt.want.Reasons) {
				t.Errorf("Memory = %+v, want %+v", run.Memory, tt.want)
			}
			if !slices.Equal(run.Notes, tt.wantNotes) {
				t.Errorf("Notes = %q, want %q", run.Notes, tt.wantNotes)
			}
			if got := run.NotesWithoutMemory(); !slices.Equal(got, tt.wantNotesLeft) {
				t.Errorf("NotesWithoutMemory = %q, want %q", got, tt.wantNotesLeft)
			}
		})
	}
}

// TestRunMemoryBeforeAnyStart: a function that cannot even start ran
// under no limit, whatever the target was set up to do: Memory says the
// limit was not enforced.
func TestRunMemoryBeforeAnyStart(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cgroups *Cgroups
	}{
		{"no cgroups", nil},
		{"unusable cgroups", detectCgroups(t.TempDir())},
		// Usable as far as the starter can tell before a start: a
		// folder that passes for a hierarchy.
		{"usable cgroups", &Cgroups{root: t.TempDir()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := fakeTarget(t, "echo")
			st := tg.Starter.(*HostStarter)
			st.Cgroups = tt.cgroups
			st.Bootstrap = filepath.Join(t.TempDir(), "missing")
			run := measure(t, Options{Samples: 1, Function: Function{MemoryMB: 128}}, tg)[0]
			if run.Failure == nil || run.Failure.Phase != "start" {
				t.Fatalf("failure %+v, want one at start", run.Failure)
			}
			if run.Memory.Enforced || len(run.Memory.Reasons) != 0 {
				t.Errorf("Memory = %+v, want not enforced and no reasons", run.Memory)
			}
		})
	}
}

// TestPeakRSSIsTheFunctions guards against counting fnopt's own memory:
// wait4's ru_maxrss of a vforked child starts at its parent's RSS. The
// static C runtime touches well under 1 MiB.
func TestPeakRSSIsTheFunctions(t *testing.T) {
	tg, err := PrepareBootstrap(testBins.minimal, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runs := measure(t, Options{Samples: 2, Expect: mustExpect(t, `"ok"`)}, tg)
	if !runs[0].OK() {
		t.Fatal(runs[0].Failure)
	}
	for _, s := range runs[0].Samples {
		if s.MaxRSSBytes <= 0 || s.MaxRSSBytes > 1<<20 {
			t.Errorf("peak RSS of the minimal runtime = %d bytes, want (0, 1 MiB]", s.MaxRSSBytes)
		}
	}
}
