package verifycmd

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/registrytest"
	"github.com/fnopt/fnopt/internal/schematest"
	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/awslambda/lambdatest"
	"github.com/fnopt/fnopt/verify/sandbox"
)

const testRole = "arn:aws:iam::123456789012:role/fnopt-verify"

// awsProject writes the gate experiment's function (standard library
// only) with arch and, when role is set, aws.role in its fnopt.yaml.
func awsProject(t *testing.T, arch settings.Arch, role string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"main.go", "work.go", "go.mod", "fnopt.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "gateexperiment", "function", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(data), "{{.InitWork}}", "0")
		s = strings.ReplaceAll(s, "{{.Arch}}", string(arch))
		if name == "fnopt.yaml" && role != "" {
			s += "aws:\n  role: " + role + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// awsZip is a project's deployment zip for the host, built once for the
// package's tests (compiling takes seconds); the folder is removed when
// the test that built it ends, so each test copies it to its own.
func awsZip(t *testing.T) string {
	t.Helper()
	sharedZip.once.Do(func() {
		res, err := dist.Produce(context.Background(), awsProject(t, settings.HostArch(), ""), dist.Options{Arch: settings.HostArch(), Package: "zip", OutDir: t.TempDir()})
		if err != nil {
			sharedZip.err = err
			return
		}
		sharedZip.data, sharedZip.err = os.ReadFile(res.Zip.Path)
	})
	if sharedZip.err != nil {
		t.Fatalf("building the test function: %v", sharedZip.err)
	}
	p := filepath.Join(t.TempDir(), "function.zip")
	if err := os.WriteFile(p, sharedZip.data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var sharedZip struct {
	once sync.Once
	data []byte
	err  error
}

func awsDouble(t *testing.T) *lambdatest.Server {
	t.Helper()
	srv := lambdatest.Start(t, lambdatest.Options{})
	srv.SetEnv(t)
	return srv
}

func TestAWSMatrixJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function for two architectures")
	}
	srv := awsDouble(t)
	dir := awsProject(t, settings.ARM64, testRole)
	out, errOut, code := execute(t, dir, "--target", "aws", "--memory", "128,256", "--arch", "arm64,x86_64", "--samples", "2", "--concurrency", "2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	schematest.Load(t, "verify.v1.schema.json").Validate(t, []byte(out))
	var doc struct {
		Schema, Target, Platform, Region string
		OK                               bool
		Samples                          int
		InitMs                           struct{ N int }  `json:"init_ms"`
		Raw                              []map[string]any `json:"raw_samples"`
		Configurations                   []struct {
			Label, Function string
			Arch            string `json:"arch"`
			MemoryMB        int    `json:"memory_mb"`
			Samples         []map[string]any
			InitMs          struct{ N int } `json:"init_ms"`
			Cost            struct {
				ColdStartUSD float64 `json:"cold_start_usd"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Schema != Schema || doc.Platform != "aws" || doc.Region != lambdatest.Region || !doc.OK || doc.Target != dir {
		t.Errorf("header %+v", doc)
	}
	if doc.InitMs.N != 2 || len(doc.Raw) != 2 || doc.Raw[0]["billed_duration_ms"] == nil {
		t.Errorf("v1 figures: init n %d, %d raw samples %v", doc.InitMs.N, len(doc.Raw), doc.Raw)
	}
	if len(doc.Configurations) != 4 {
		t.Fatalf("%d configurations, want 4", len(doc.Configurations))
	}
	for _, c := range doc.Configurations {
		if len(c.Samples) != 2 || c.InitMs.N != 2 || c.Cost.ColdStartUSD <= 0 || !strings.HasPrefix(c.Function, awslambda.NamePrefix) {
			t.Errorf("configuration %+v", c)
		}
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}
}

func TestAWSText(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	srv := awsDouble(t)
	zip := awsZip(t)
	out, errOut, code := execute(t, zip, "--target", "aws", "--role", testRole, "--samples", "3", "--concurrency", "3", "--warm", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		" on AWS Lambda (us-east-1, account 123456789012): 1 round\n",
		string(settings.HostArch()) + " 128 MB (fnopt-verify-",
		"  init  ", "  round trip  ", "  warm invoke  ", "  max memory  ",
		"cost: $", "per cold start", "per 1M warm invocations",
		"prices: Lambda's list prices in us-east-1 as of " + awslambda.PricesAsOf,
		"temporary functions deleted\nok\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}
}

func TestAWSErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds functions")
	}
	zip := awsZip(t)
	crash := awsProject(t, settings.HostArch(), testRole)
	if err := os.WriteFile(filepath.Join(crash, "main.go"), []byte("package main\n\nimport \"os\"\n\nfunc main() { os.Exit(3) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(crash, "work.go")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, srv *lambdatest.Server)
		args  []string
		code  int
		want  string
	}{
		{"no credentials", func(t *testing.T, _ *lambdatest.Server) {
			t.Setenv("AWS_ACCESS_KEY_ID", "")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "")
		}, []string{zip, "--role", testRole}, 2, "fnopt: no AWS credentials found: set AWS_PROFILE"},
		{"no region", func(t *testing.T, _ *lambdatest.Server) { t.Setenv("AWS_REGION", "") }, []string{zip, "--role", testRole}, 2, "; or pass --region"},
		{"no role", nil, []string{zip}, 2, "fnopt: no execution role for the temporary functions: pass --role ARN"},
		{"access denied", func(t *testing.T, srv *lambdatest.Server) { srv.Deny("lambda:CreateFunction") }, []string{zip, "--role", testRole}, 2, "fnopt: AWS denied lambda:CreateFunction: allow it"},
		{"init failure", nil, []string{crash}, 1, "fnopt: the function failed in init on Lambda"},
		{"init failure, json", nil, []string{crash, "--json"}, 1, "fnopt: the function failed in init on Lambda"},
		{"bad target", nil, []string{zip, "--target", "gcp"}, 2, "fnopt: --target gcp: use local or aws"},
		{"aws flag locally", nil, []string{zip, "--region", "eu-west-1"}, 2, "fnopt: --region needs --target aws"},
		{"memory list locally", nil, []string{zip, "--memory", "128,512"}, 2, "fnopt: --memory takes one size locally"},
		{"memory out of range", nil, []string{zip, "--memory", "128,64", "--role", testRole}, 2, "fnopt: --memory 64 MB: Lambda allows 128 to 10240 MB"},
		{"bad arch", nil, []string{zip, "--arch", "sparc", "--role", testRole}, 2, "fnopt: --arch: "},
		{"serve", nil, []string{zip, "--serve"}, 2, "fnopt: --serve runs the function here"},
		{"gate matrix", nil, []string{zip, "--role", testRole, "--save-baseline", "b.json", "--memory", "128,256", "--samples", "6"}, 2, "fnopt: the gate compares one configuration on Lambda"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := awsDouble(t)
			if tt.setup != nil {
				tt.setup(t, srv)
			}
			args := append([]string{"--target", "aws", "--samples", "2", "--concurrency", "2"}, tt.args...)
			if tt.name == "aws flag locally" || tt.name == "memory list locally" {
				args = tt.args
			}
			out, errOut, code := execute(t, args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, tt.code, tt.want)
			}
			if strings.HasSuffix(tt.name, "json") {
				var doc struct {
					OK      bool
					Failure struct {
						Phase     string
						ErrorType string `json:"error_type"`
					}
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.OK || doc.Failure.Phase != "init" || doc.Failure.ErrorType != "Runtime.ExitError" {
					t.Errorf("--json on failure: %v\n%s", err, out)
				}
			}
			if lines := strings.Count(strings.TrimSpace(lastLine(errOut)), "\n"); lines != 0 {
				t.Errorf("the error is not one line: %q", errOut)
			}
			if left := srv.Functions(); len(left) != 0 {
				t.Errorf("functions left behind: %v", left)
			}
		})
	}
}

// lastLine is the last line of s: the error fnopt ends with.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

func TestAWSCleanup(t *testing.T) {
	srv := awsDouble(t)
	old := time.Now().Add(-3 * time.Hour).UTC().Format(time.RFC3339)
	srv.AddFunction("fnopt-verify-00000000aa", map[string]string{awslambda.TagTemporary: "true", awslambda.TagCreated: old}, 3*time.Hour)
	srv.AddFunction("payments", map[string]string{}, 3*time.Hour)
	out, errOut, code := execute(t, "--target", "aws", "--cleanup")
	if code != 0 || !strings.Contains(out, "deleted fnopt-verify-00000000aa\n1 leftover functions deleted in us-east-1") {
		t.Errorf("exit %d: %s%s", code, out, errOut)
	}
	if left := srv.Functions(); len(left) != 1 || left[0] != "payments" {
		t.Errorf("left %v, want only payments", left)
	}
}

func TestAWSGateAgainst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions")
	}
	srv := awsDouble(t)
	repo := t.TempDir()
	fn := filepath.Join(repo, "fn")
	if err := os.CopyFS(fn, os.DirFS(awsProject(t, settings.HostArch(), testRole))); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "function")
	work, err := os.ReadFile(filepath.Join("..", "..", "examples", "gateexperiment", "function", "work.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fn, "work.go"), []byte(strings.ReplaceAll(string(work), "{{.InitWork}}", "30000000")), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	out, errOut, code := execute(t, fn, "--target", "aws", "--against", "HEAD", "--samples", "6", "--concurrency", "3")
	if code != 1 || !strings.Contains(out, "init regressed") || !strings.Contains(out, "measured on AWS Lambda in us-east-1") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}
}

// envRunVerify makes the test binary run as `fnopt verify` (see
// runAsVerify), for tests that signal a real process.
const envRunVerify = "FNOPT_VERIFYCMD_TEST_RUN_VERIFY"

// runAsVerify is called first by TestMain: with envRunVerify set, this
// process is `fnopt verify ARGS` with the signal handling of cmd/fnopt (the
// first SIGINT cancels the command, which cleans up; the exit status is
// then 130), and exits.
func runAsVerify() {
	if os.Getenv(envRunVerify) == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	var interrupted atomic.Bool
	go func() {
		<-sigs
		interrupted.Store(true)
		cancel()
	}()
	ios := cmdutil.System()
	cmd := NewCmd(ios)
	cmd.SetArgs(os.Args[1:])
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	code := cmdutil.Report(ios.ErrOut, cmd.ExecuteContext(ctx))
	if interrupted.Load() {
		code = 130
	}
	os.Exit(code)
}

// TestAWSInterrupted stops a real process running fnopt verify (this
// test binary, see runAsVerify) with SIGINT at several points of a run:
// once it has exited, no function is left.
func TestAWSInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	zip := awsZip(t)
	for _, after := range []string{"lambda:CreateFunction", "lambda:InvokeFunction", "lambda:UpdateFunctionConfiguration"} {
		t.Run(after, func(t *testing.T) {
			srv := lambdatest.Start(t, lambdatest.Options{StateDelay: 300 * time.Millisecond, UpdateDelay: 300 * time.Millisecond})
			cmd := exec.Command(os.Args[0], zip, "--target", "aws", "--role", testRole, "--samples", "40", "--concurrency", "2", "--memory", "128,256")
			cmd.Env = append(os.Environ(), envRunVerify+"=1")
			for k, v := range srv.Env() {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait, boundedly, for the run to reach the call.
			deadline := time.Now().Add(2 * time.Minute)
			for srv.Calls(after) == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 130 {
				t.Errorf("exit %v, want 130; stderr:\n%s", err, stderr.String())
			}
			if left := srv.Functions(); len(left) != 0 {
				t.Errorf("functions left behind: %v\n%s", left, stderr.String())
			}
		})
	}
}

// TestAWSImage deploys an image pushed to the --ecr-repo repository.
func TestAWSImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs an image")
	}
	if err := sandbox.Supported(); err != nil {
		t.Skipf("images run in namespaces: %v", err)
	}
	registry := registrytest.Start(t)
	srv := lambdatest.Start(t, lambdatest.Options{Registry: registry})
	srv.SetEnv(t)
	dir := awsProject(t, settings.HostArch(), testRole)
	res, err := dist.Produce(context.Background(), dir, dist.Options{Arch: settings.HostArch(), Package: "image", OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ref := "oci:" + res.Image.Dest.Path
	_, errOut, code := execute(t, ref, "--target", "aws", "--role", testRole, "--samples", "2", "--concurrency", "2")
	if code != 2 || !strings.Contains(errOut, "pass --ecr-repo") {
		t.Errorf("no repository: exit %d: %s", code, errOut)
	}
	out, errOut, code := execute(t, ref, "--target", "aws", "--role", testRole, "--samples", "2", "--concurrency", "2", "--ecr-repo", registry+"/fnopt", "--insecure")
	if code != 0 || !strings.Contains(out, "(fnopt-verify-") || !strings.Contains(out, ", image): 2 cold starts") || !strings.Contains(out, "artifact: image_compressed ") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}
}
