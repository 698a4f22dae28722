package templates_test

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/fnopt/fnopt/internal/awsref"
	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/procgroup"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/templates"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// rustSample is the AWS sample event each Rust project's tests are fed
// (testdata/event.json), from internal/awsref.
var rustSample = map[string]string{
	"raw":         "eventbridge-ecr-image-push-event.json",
	"http":        "apigw-v2-request-no-authorizer.json",
	"url":         "lambda-urls-request.json",
	"sqs":         "sqs-event.json",
	"s3":          "s3-event.json",
	"eventbridge": "eventbridge-ecr-image-push-event.json",
}

// samFunctionID finds the logical ID of the function in template.yaml.
var samFunctionID = regexp.MustCompile(`(?m)^  (\w+):\n    Type: AWS::Serverless::Function$`)

// cargoManifest is the part of Cargo.toml the tests check.
type cargoManifest struct {
	Package struct {
		Name    string `toml:"name"`
		Edition string `toml:"edition"`
	} `toml:"package"`
	Bin []struct {
		Name string `toml:"name"`
		Path string `toml:"path"`
	} `toml:"bin"`
	Dependencies map[string]any `toml:"dependencies"`
	Profile      struct {
		Release map[string]any `toml:"release"`
	} `toml:"profile"`
}

// TestRenderRustCombinations renders every Rust event × client × arch ×
// package and checks the files, Cargo.toml (valid TOML with the tuned
// profile), the Makefile's target and the sample event.
func TestRenderRustCombinations(t *testing.T) {
	for _, o := range combinations() {
		if o.Lang != "rust" {
			continue
		}
		t.Run(fmt.Sprintf("%s/%s/%s/%s/%s", o.Client, o.Event, o.Arch, o.Package, o.Link), func(t *testing.T) {
			fs := files(t, o)
			want := []string{"Cargo.toml", "Makefile", ".cargo/config.toml", "src/main.rs", "src/handler.rs", "testdata/event.json", "zip.go"}
			if o.Client == "minimal" {
				want = append(want, "src/runtime.rs")
				if o.Event != "raw" {
					want = append(want, "src/events.rs")
				}
			}
			for _, p := range want {
				if _, ok := fs[p]; !ok {
					t.Errorf("%s missing", p)
				}
			}
			for p, f := range fs {
				if bytes.Contains(f.Data, []byte("{{")) || bytes.Contains(f.Data, []byte("<no value>")) {
					t.Errorf("%s holds template text", p)
				}
			}
			checkManifest(t, fs["Cargo.toml"].Data, o)
			checkCargoConfig(t, fs[".cargo/config.toml"].Data)

			// SAM's makefile build calls build-<LogicalID of template.yaml>.
			id := samFunctionID.FindSubmatch(fs["template.yaml"].Data)
			if id == nil {
				t.Fatal("template.yaml declares no AWS::Serverless::Function")
			}
			mk := string(fs["Makefile"].Data)
			for _, s := range []string{
				"ARCH ?= " + string(o.Arch) + "\n",
				"RUST_TARGET := " + o.Arch.RustTarget() + "\n",
				"build-" + string(id[1]) + ": build\n",
				"dist/bootstrap",
				"function.zip",
			} {
				if !strings.Contains(mk, s) {
					t.Errorf("Makefile lacks %q", s)
				}
			}

			// The link fnopt.yaml states is the one the Makefile builds.
			cfg, err := config.Parse(fs[config.FileName].Data)
			if err != nil {
				t.Fatal(err)
			}
			link := config.LinkDynamic
			if o.Link.Static() {
				link = config.LinkStatic
			}
			if cfg.Build.Link != link {
				t.Errorf("fnopt.yaml build.link %q, want %q", cfg.Build.Link, link)
			}
			if static := strings.Contains(mk, "TUNED_RUSTFLAGS ?= -C target-feature=+crt-static\n"); static != o.Link.Static() {
				t.Errorf("Makefile links glibc statically: %v, want %v", static, o.Link.Static())
			}

			sample, err := awsref.Event(rustSample[o.Event])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fs["testdata/event.json"].Data, sample) {
				t.Errorf("testdata/event.json is not %s", rustSample[o.Event])
			}
		})
	}
}

func checkManifest(t *testing.T, data []byte, o templates.Options) {
	t.Helper()
	var m cargoManifest
	if err := toml.Unmarshal(data, &m); err != nil {
		t.Fatalf("Cargo.toml is not valid TOML: %v\n%s", err, data)
	}
	if want := strings.ReplaceAll(o.Name, "-", "_"); m.Package.Name != want || m.Package.Edition != "2021" {
		t.Errorf("package %q edition %q, want %q 2021", m.Package.Name, m.Package.Edition, want)
	}
	if len(m.Bin) != 1 || m.Bin[0].Name != "bootstrap" || m.Bin[0].Path != "src/main.rs" {
		t.Errorf("[[bin]] = %+v, want one named bootstrap", m.Bin)
	}
	for _, k := range settings.RustProfile() {
		var lit map[string]any
		if err := toml.Unmarshal([]byte("v = "+k.Value), &lit); err != nil {
			t.Fatalf("settings value %s = %s: %v", k.Key, k.Value, err)
		}
		if got := m.Profile.Release[k.Key]; !reflect.DeepEqual(got, lit["v"]) {
			t.Errorf("[profile.release] %s = %v, want %v", k.Key, got, lit["v"])
		}
	}
	if len(m.Profile.Release) != len(settings.RustProfile()) {
		t.Errorf("[profile.release] = %v, want exactly settings.RustProfile", m.Profile.Release)
	}
	var deps []string
	for d := range m.Dependencies {
		deps = append(deps, d)
	}
	sort.Strings(deps)
	want := []string{"serde", "serde_json"}
	if o.Client == "official" {
		want = []string{"lambda_runtime", "serde", "serde_json", "tokio"}
		if o.Event != "raw" {
			want = append([]string{"aws_lambda_events"}, want...)
		}
		if o.Event == "url" {
			want = append(want[:1], append([]string{"base64"}, want[1:]...)...)
		}
	}
	if !reflect.DeepEqual(deps, want) {
		t.Errorf("dependencies %v, want %v", deps, want)
	}
}

func checkCargoConfig(t *testing.T, data []byte) {
	t.Helper()
	var cfg struct {
		Target map[string]struct {
			Linker string `toml:"linker"`
		} `toml:"target"`
	}
	if err := toml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf(".cargo/config.toml is not valid TOML: %v", err)
	}
	if got := cfg.Target[settings.ARM64.RustTarget()].Linker; got != "aarch64-linux-gnu-gcc" {
		t.Errorf(".cargo/config.toml: arm64 linker %q", got)
	}
}

// TestRustSourcesFormatted checks that every Rust project's sources parse
// and are rustfmt-clean; the official client's cannot be compiled here
// (its crates are not packaged in Debian), so this is their syntax check.
func TestRustSourcesFormatted(t *testing.T) {
	rustfmt, err := exec.LookPath("rustfmt")
	if err != nil {
		t.Fatal("rustfmt not found: install it with `rustup component add rustfmt`")
	}
	root := t.TempDir()
	for _, client := range templates.Choices["client"] {
		for _, event := range templates.Choices["event"] {
			t.Run(client+"/"+event, func(t *testing.T) {
				dir := filepath.Join(root, client+"-"+event)
				writeProject(t, dir, templates.Options{Name: "fn-" + event, Lang: "rust", Event: event, Arch: "arm64", Package: "zip", Client: config.Client(client)})
				// rustfmt follows the mod declarations from main.rs.
				out, err := exec.Command(rustfmt, "--check", "--edition", "2021", filepath.Join(dir, "src", "main.rs")).CombinedOutput()
				if err != nil {
					t.Errorf("rustfmt --check: %v\n%s", err, out)
				}
			})
		}
	}
}

// rustBuilder builds generated Rust projects offline against Debian's
// crates, all into one cargo target folder so dependencies compile once.
type rustBuilder struct {
	env []string
}

func newRustBuilder(t testing.TB) *rustBuilder {
	t.Helper()
	if settings.HostArch() != settings.X86_64 {
		t.Skip("only the x86_64 Rust target is installed on the test machine")
	}
	return &rustBuilder{env: append(testenv.CargoEnv(t), "CARGO_TARGET_DIR="+filepath.Join(t.TempDir(), "target"))}
}

// run runs a command in a project and fails the test on error.
func (rb *rustBuilder) run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	return rb.runEnv(t, dir, nil, name, args...)
}

// runEnv is run with more environment.
func (rb *rustBuilder) runEnv(t testing.TB, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := testenv.Command(dir, append(append([]string(nil), rb.env...), env...), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// TestGeneratedRustMinimalProjects builds every event's Rust minimal
// project for x86_64 with its own Makefile, runs its own tests (the
// handler fed the AWS sample event, the runtime client's tests), and runs
// the functions as real processes against the Runtime API emulator.
func TestGeneratedRustMinimalProjects(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 7 Rust projects")
	}
	rb := newRustBuilder(t)
	root := t.TempDir()
	bootstraps := map[string]string{}
	for _, event := range templates.Choices["event"] {
		t.Run("build/"+event, func(t *testing.T) {
			dir := filepath.Join(root, event)
			writeProject(t, dir, templates.Options{Name: "fn-" + event, Lang: "rust", Event: event, Arch: "x86_64", Package: "zip", Client: "minimal"})
			rb.run(t, dir, "make", "build")
			bin := filepath.Join(dir, "dist", "bootstrap")
			checkRustBootstrap(t, bin)
			bootstraps[event] = bin
			if out := rb.run(t, dir, "make", "test"); !strings.Contains(out, "test result: ok") {
				t.Errorf("make test:\n%s", out)
			}
			if event == "raw" {
				rb.run(t, dir, "make", "zip")
				checkZip(t, filepath.Join(dir, "dist", "function.zip"))
				// The Makefile says fnopt build writes the same zip.
				sameZipAsFnopt(t, filepath.Join(dir, "dist"))
				samBuildTarget(t, dir, func(t *testing.T, dir, name string, args ...string) string {
					return rb.run(t, dir, name, args...)
				})
			}
		})
	}

	// fnopt new --link static: the Makefile and fnopt build both link glibc
	// in, the zip fits the static budget, and the function still answers.
	t.Run("static", func(t *testing.T) {
		o := templates.Options{Name: "fn-static", Lang: "rust", Event: "raw", Arch: "x86_64", Package: "zip", Client: "minimal", Link: config.LinkStatic}
		dir := filepath.Join(root, "static")
		writeProject(t, dir, o)
		rb.run(t, dir, "make", "zip")
		bin := filepath.Join(dir, "dist", "bootstrap")
		checkStatic(t, bin)
		zi, err := os.Stat(filepath.Join(dir, "dist", "function.zip"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if budget := cfg.Budgets.ArtifactBytes; zi.Size() > budget {
			t.Errorf("the static zip is %d bytes, over its fnopt.yaml budget of %d", zi.Size(), budget)
		}
		// fnopt.yaml and `fnopt new` say static costs about 400 KB of zip.
		if dyn, err := os.Stat(filepath.Join(root, "raw", "dist", "function.zip")); err == nil {
			if more := zi.Size() - dyn.Size(); more < 300_000 || more > 500_000 {
				t.Errorf("the static zip is %d bytes more than the dynamic one; fnopt.yaml's comment says about 400 KB", more)
			}
		} else {
			t.Errorf("the dynamic raw zip to compare with: %v", err)
		}
		out := t.TempDir()
		if _, err := dist.Produce(context.Background(), dir, dist.Options{Arch: settings.X86_64, OutDir: out, Env: rb.env}); err != nil {
			t.Fatal(err)
		}
		checkStatic(t, filepath.Join(out, "bootstrap"))
		if res := invoke(t, startFunction(t, bin, nil), `{"name": "static"}`); res.Error != nil || string(res.Body) != `{"message":"Hello, static!"}` {
			t.Errorf("invocation: body %s, error %v", res.Body, res.Error)
		}
	})

	t.Run("invoke/raw", func(t *testing.T) {
		bin := needBootstrap(t, bootstraps, "raw")
		srv := startFunction(t, bin, nil)
		if ok := invoke(t, srv, `{"name": "fnopt"}`); ok.Error != nil || string(ok.Body) != `{"message":"Hello, fnopt!"}` {
			t.Errorf("invocation: body %s, error %v", ok.Body, ok.Error)
		}
		bad := invoke(t, srv, `{"name": ""}`)
		if bad.Error == nil || bad.Error.Type != "InvalidName" || bad.Error.Message != "name must not be empty" {
			t.Errorf("handler error reached /error as %+v (body %s), want InvalidName: name must not be empty", bad.Error, bad.Body)
		}
		if notJSON := invoke(t, srv, `[1`); notJSON.Error == nil || notJSON.Error.Type != "Runtime.UnmarshalError" {
			t.Errorf("a bad event reached /error as %+v", notJSON.Error)
		}
		if again := invoke(t, srv, `{}`); again.Error != nil || string(again.Body) != `{"message":"Hello, world!"}` {
			t.Errorf("after errors: body %s, error %v", again.Body, again.Error)
		}
	})

	// Each function answers its AWS sample event.
	for _, tc := range []struct{ event, want string }{
		{"http", `{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"message\":\"Hello from GET /\"}","isBase64Encoded":false}`},
		{"url", `{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"message\":\"Hello from POST /my/path\",\"received\":18}","isBase64Encoded":false}`},
		{"sqs", `{"batchItemFailures":[]}`},
		{"s3", `{"objects":["s3://sourcebucket/Happy Face.jpg"]}`},
		{"eventbridge", `{"id":"13cde686-328b-6117-af20-0e5566167482","source":"aws.ecr","detailType":"ECR Image Action","fields":5}`},
	} {
		t.Run("invoke-sample/"+tc.event, func(t *testing.T) {
			bin := needBootstrap(t, bootstraps, tc.event)
			sample, err := awsref.Event(rustSample[tc.event])
			if err != nil {
				t.Fatal(err)
			}
			res := invoke(t, startFunction(t, bin, nil), string(sample))
			if res.Error != nil || string(res.Body) != tc.want {
				t.Errorf("response %s, error %v; want %s", res.Body, res.Error, tc.want)
			}
		})
	}

	t.Run("contract", func(t *testing.T) {
		testRustContract(t, rb, root)
	})
}

func needBootstrap(t *testing.T, bootstraps map[string]string, event string) string {
	t.Helper()
	bin := bootstraps[event]
	if bin == "" {
		t.Skip("the build failed")
	}
	return bin
}

// checkRustBootstrap: an x86_64 ELF, stripped (no symbol table), that
// needs no glibc newer than provided.al2023's 2.34.
func checkRustBootstrap(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("%s is for %v", path, f.Machine)
	}
	if f.Section(".symtab") != nil {
		t.Errorf("%s has a symbol table: not stripped", path)
	}
	syms, err := f.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		t.Fatalf("reading the dynamic symbols of %s: %v", path, err)
	}
	for _, s := range syms {
		if v, ok := strings.CutPrefix(s.Version, "GLIBC_"); ok && newerGlibc(v, "2.34") {
			t.Errorf("%s needs %s %s: provided.al2023 has glibc 2.34", path, s.Name, s.Version)
		}
	}
}

// checkIgnoresSIGPIPE: by the time the bootstrap connects to the Runtime
// API, SIGPIPE is ignored, so a write to a connection the other side
// closed is an error the client reports, not a silent death. Rust's own
// start-up code ignores it; the template skips that code, so its runtime
// client must.
func checkIgnoresSIGPIPE(t *testing.T, bootstrap string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(bootstrap)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "PATH=/usr/bin:/bin"}
	procgroup.Set(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = procgroup.Kill(cmd.Process)
		_ = cmd.Wait()
	}()
	if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	conn, err := ln.Accept() // held unanswered: the bootstrap waits in its first GET /next
	if err != nil {
		t.Fatalf("the bootstrap never connected: %v", err)
	}
	defer conn.Close()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^SigIgn:\s*([0-9a-f]+)$`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("no SigIgn line in /proc/%d/status:\n%s", cmd.Process.Pid, status)
	}
	ignored, err := strconv.ParseUint(string(m[1]), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	if ignored&(1<<(syscall.SIGPIPE-1)) == 0 {
		t.Errorf("the bootstrap does not ignore SIGPIPE (SigIgn %s)", m[1])
	}
}

// checkStatic: an x86_64 ELF with no program interpreter, so it needs no
// dynamic loader or shared glibc.
func checkStatic(t *testing.T, path string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if testenv.HasInterp(f) {
		t.Errorf("%s has a program interpreter: linked dynamically", path)
	}
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("%s is for %v", path, f.Machine)
	}
}

// newerGlibc reports whether version a ("2.35") is after b ("2.34").
func newerGlibc(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			fmt.Sscan(as[i], &x)
		}
		if i < len(bs) {
			fmt.Sscan(bs[i], &y)
		}
		if x != y {
			return x > y
		}
	}
	return false
}

// rustPlainMain is the minimal template's main.rs with Rust's own
// start-up code: a plain fn main, as before the template skipped it.
const rustPlainMain = `mod handler;
mod runtime;

fn main() {
    runtime::run(|| Ok(handler::handle))
}
`

// rustContractMain replaces a minimal project's main.rs: the function
// shows what the runtime gave it, panics on request, and fails or panics
// in its init when told to. Its entry is the template's (no Rust main),
// so the contract is checked as the function ships.
const rustContractMain = `#![cfg_attr(not(test), no_main)]
mod runtime;

use runtime::{Context, Error};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct In {
    #[serde(default)]
    panic: bool,
}

#[derive(Serialize)]
struct Seen {
    request_id: String,
    function_arn: String,
    deadline_ms: u64,
    remaining_ms: u128,
    trace_ctx: Option<String>,
    trace_env: Option<String>,
    client_context: Option<String>,
    cognito_identity: Option<String>,
    tenant_id: Option<String>,
}

// The template's entry, without Rust's start-up code.
#[cfg(not(test))]
#[no_mangle]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    runtime::run(|| {
        if std::env::var_os("FAIL_INIT").is_some() {
            return Err(Error::new("ConfigError", "no configuration"));
        }
        if std::env::var_os("PANIC_INIT").is_some() {
            panic!("init boom");
        }
        Ok(|e: In, ctx: &Context| -> Result<Seen, Error> {
            if e.panic {
                panic!("boom");
            }
            Ok(Seen {
                request_id: ctx.request_id.clone(),
                function_arn: ctx.invoked_function_arn.clone(),
                deadline_ms: ctx.deadline_ms,
                remaining_ms: ctx.remaining().as_millis(),
                trace_ctx: ctx.trace_id.clone(),
                trace_env: std::env::var("_X_AMZN_TRACE_ID").ok(),
                client_context: ctx.client_context.clone(),
                cognito_identity: ctx.cognito_identity.clone(),
                tenant_id: ctx.tenant_id.clone(),
            })
        })
    })
}
`

// testRustContract runs the minimal client's contract points against the
// emulator as a real process built with the release profile (panic =
// "abort"): invocation metadata and deadline, the trace header in the
// environment, a panic reported as an error before the process aborts,
// and init errors and panics reported to /init/error.
func testRustContract(t *testing.T, rb *rustBuilder, root string) {
	dir := filepath.Join(root, "contract")
	writeProject(t, dir, templates.Options{Name: "contract", Lang: "rust", Event: "raw", Arch: "x86_64", Package: "zip", Client: "minimal"})
	if err := os.WriteFile(filepath.Join(dir, "src", "main.rs"), []byte(rustContractMain), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "src", "handler.rs")); err != nil {
		t.Fatal(err)
	}
	rb.run(t, dir, "make", "build")
	bin := filepath.Join(dir, "dist", "bootstrap")
	checkIgnoresSIGPIPE(t, bin)

	srv := startFunction(t, bin, nil)
	res, err := srv.InvokeRequest(t.Context(), runtimeapi.Request{
		Payload:         []byte(`{}`),
		ClientContext:   `{"client":{"app_title":"fnopt"}}`,
		CognitoIdentity: `{"cognitoIdentityId":"id"}`,
		TenantID:        "tenant-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RequestID       string  `json:"request_id"`
		FunctionARN     string  `json:"function_arn"`
		DeadlineMs      int64   `json:"deadline_ms"`
		RemainingMs     int64   `json:"remaining_ms"`
		TraceCtx        *string `json:"trace_ctx"`
		TraceEnv        *string `json:"trace_env"`
		ClientContext   string  `json:"client_context"`
		CognitoIdentity string  `json:"cognito_identity"`
		TenantID        string  `json:"tenant_id"`
	}
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatalf("response %s: %v (error %v)", res.Body, err, res.Error)
	}
	if got.RequestID != res.RequestID || got.FunctionARN != srv.FunctionARN() {
		t.Errorf("context: request %q arn %q, want %q %q", got.RequestID, got.FunctionARN, res.RequestID, srv.FunctionARN())
	}
	if got.TraceCtx == nil || got.TraceEnv == nil || *got.TraceEnv != *got.TraceCtx {
		t.Errorf("_X_AMZN_TRACE_ID = %v, Lambda-Runtime-Trace-Id = %v", got.TraceEnv, got.TraceCtx)
	}
	if want := res.Sent.Add(10 * time.Second).UnixMilli(); got.DeadlineMs < want-1000 || got.DeadlineMs > want+1000 {
		t.Errorf("deadline %d, want about %d", got.DeadlineMs, want)
	}
	if got.RemainingMs <= 0 || got.RemainingMs > 10000 {
		t.Errorf("remaining %d ms of a 10 s timeout", got.RemainingMs)
	}
	if got.ClientContext != `{"client":{"app_title":"fnopt"}}` || got.CognitoIdentity != `{"cognitoIdentityId":"id"}` || got.TenantID != "tenant-1" {
		t.Errorf("client context %q, cognito identity %q, tenant %q", got.ClientContext, got.CognitoIdentity, got.TenantID)
	}

	// With panic = "abort" the panic hook reports the error before the
	// process dies.
	p := invoke(t, srv, `{"panic": true}`)
	if p.Error == nil || p.Error.Type != "Runtime.Panic" || p.Error.Message != "boom" ||
		len(p.Error.StackTrace) != 1 || !strings.HasPrefix(p.Error.StackTrace[0], "src/main.rs:") {
		t.Errorf("panic reported as %+v", p.Error)
	}

	for _, tc := range []struct{ env, typ, msg string }{
		{"FAIL_INIT=1", "ConfigError", "no configuration"},
		{"PANIC_INIT=1", "Runtime.Panic", "init boom"},
	} {
		s := startFunction(t, bin, []string{tc.env})
		if e := s.InitError(); e == nil || e.Type != tc.typ || e.Message != tc.msg {
			t.Errorf("%s: init error = %+v, want %s: %s", tc.env, e, tc.typ, tc.msg)
		}
	}
}

// BenchmarkRustMinimalSize builds the Rust minimal hello function (raw
// event, x86_64) with fnopt's settings and, side by side, with Rust's own
// start-up code (a plain fn main, which the template skips) and with the
// C runtime linked statically (+crt-static), and prints their sizes
// against the 500 KB budget and their start-up: exec to the first
// GET /next, interleaved.
func BenchmarkRustMinimalSize(b *testing.B) {
	rb := newRustBuilder(b)
	o := templates.Options{Name: "hello", Lang: "rust", Event: "raw", Arch: "x86_64", Package: "zip", Client: "minimal"}
	variants := []struct {
		name, flags string
		main        string // replaces src/main.rs when set
	}{
		{name: "tuned", flags: strings.Join(settings.RustFlags(false), " ")},
		{name: "rust-main", flags: strings.Join(settings.RustFlags(false), " "), main: rustPlainMain},
		{name: "crt-static", flags: strings.Join(settings.RustFlags(true), " ")},
	}
	bins := make([]string, len(variants))
	var zipPath string
	for i, v := range variants {
		dir := filepath.Join(b.TempDir(), "hello")
		writeProject(b, dir, o)
		if v.main != "" {
			if err := os.WriteFile(filepath.Join(dir, "src", "main.rs"), []byte(v.main), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		// With --target (the Makefile passes it), RUSTFLAGS reaches the
		// function only, not the proc-macros.
		target := "build"
		if i == 0 {
			target = "zip" // the artifact Lambda downloads, for the tuned build
			zipPath = filepath.Join(dir, "dist", "function.zip")
		}
		env := []string{"RUSTFLAGS=" + v.flags}
		if v.main != "" {
			// Its own target folder: cargo tells sources apart by their
			// times, and this one may be no newer than the last build.
			env = append(env, "CARGO_TARGET_DIR="+filepath.Join(b.TempDir(), "target"))
		}
		rb.runEnv(b, dir, env, "make", target, "TUNED_RUSTFLAGS="+v.flags)
		bins[i] = filepath.Join(dir, "dist", "bootstrap")
	}
	budget := config.DefaultBudgets(config.Rust, config.Minimal, config.LinkDynamic).ArtifactBytes
	var bootstrapBytes, zipBytes int64
	for i, v := range variants {
		fi, err := os.Stat(bins[i])
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("Rust minimal x86_64 bootstrap, %-10s %8d bytes = %.2f × the 500 KB budget", v.name, fi.Size(), float64(fi.Size())/float64(budget))
		if i == 0 {
			zi, err := os.Stat(zipPath)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("Rust minimal x86_64 function.zip, %-10s %8d bytes", v.name, zi.Size())
			bootstrapBytes, zipBytes = fi.Size(), zi.Size()
		}
	}
	// b.Loop runs this function once, so the builds above are not repeated.
	startups := make([][]float64, len(variants))
	for b.Loop() {
		for i := range variants { // interleaved, so load hits both alike
			startups[i] = append(startups[i], timeToFirstNext(b, bins[i]))
		}
	}
	for i, v := range variants {
		b.Logf("start-up %-10s median %.2f ms over %d runs", v.name, medianMs(startups[i]), len(startups[i]))
	}
	// After b.Loop: it resets the metrics reported before it.
	b.ReportMetric(float64(bootstrapBytes), "bootstrap-bytes")
	b.ReportMetric(float64(zipBytes), "zip-bytes")
	b.ReportMetric(medianMs(startups[0])/medianMs(startups[1]), "tuned/rust-main-startup")
	b.ReportMetric(medianMs(startups[0])/medianMs(startups[2]), "tuned/static-startup")
}

// timeToFirstNext runs bootstrap against a fresh emulator and returns the
// milliseconds from starting the process to its first GET /next.
func timeToFirstNext(b *testing.B, bootstrap string) float64 {
	b.Helper()
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "hello", MemoryMB: 128, Timeout: 10 * time.Second})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()
	cmd := exec.Command(bootstrap)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + ts.Listener.Addr().String()}
	procgroup.Set(cmd)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = procgroup.Kill(cmd.Process)
		cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	at, err := srv.WaitNext(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return float64(at.Sub(start)) / float64(time.Millisecond)
}

func medianMs(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
