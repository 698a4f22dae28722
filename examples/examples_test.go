package examples_test

import (
	"context"
	"debug/elf"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify"
)

// example is one of the committed example functions.
type example struct {
	dir string
	// expect is what the function answers to its own sample event
	// (testdata/event.json): JSON or /regex/, as fnopt verify --expect.
	expect string
	// edited are the files changed by hand after `fnopt new`, with why;
	// every other file must be exactly what the templates render.
	edited map[string]string
}

var examples = []example{
	{dir: "go-official", expect: `{"message":"Hello, world!"}`},
	{dir: "go-minimal", expect: `{"message":"Hello, world!"}`},
	{dir: "rust-minimal", expect: `{"message":"Hello, world!"}`},
	{dir: "rust-official"},
	{
		dir:    "go-http",
		expect: `/"statusCode":404/`, // the sample event is GET /, which has no route
		edited: map[string]string{
			"handler.go":      "a small JSON API (GET /hello, POST /total) instead of the scaffold's echo",
			"handler_test.go": "tests of every route and bad input",
		},
	},
	{
		dir:    "go-sqs",
		expect: `{"batchItemFailures":[{"itemIdentifier":"MessageID_1"}]}`, // "Message Body" is not a payment
		edited: map[string]string{
			"handler.go":      "payments with validation, duplicate skipping and partial batch failures",
			"handler_test.go": "tests of good, bad, duplicate and late messages",
		},
	},
}

// TestGoExamples runs each Go example's own tests and vet, builds it with
// fnopt's tuned settings for arm64 and x86_64, and runs the host build
// against the Runtime API emulator with the example's sample event.
func TestGoExamples(t *testing.T) {
	t.Parallel()
	for _, ex := range examples {
		if !strings.HasPrefix(ex.dir, "go-") {
			continue
		}
		t.Run(ex.dir, func(t *testing.T) {
			dir := mustAbs(t, ex.dir)
			goCmd(t, dir, nil, "vet", "./...")
			goCmd(t, dir, nil, "test", "-count=1", "./...")
			out := t.TempDir()
			for _, arch := range []settings.Arch{settings.ARM64, settings.X86_64} {
				gb := settings.Go(arch)
				bin := filepath.Join(out, string(arch), "bootstrap")
				goCmd(t, dir, gb.Env, append(append([]string{"build"}, gb.Flags...), "-o", bin, ".")...)
				checkELF(t, bin, arch)
			}
			invoke(t, filepath.Join(out, string(settings.HostArch()), "bootstrap"), ex)
		})
	}
}

// TestRustMinimalExample runs the Rust minimal example's tests with cargo
// offline against Debian's crate sources and invokes its bootstrap. The
// bootstrap is the debug build, which reuses the compiled dependencies of
// cargo test; the tuned release build (fat LTO, a minute more) is covered
// by the templates' tests and measured by the benchmark.
func TestRustMinimalExample(t *testing.T) {
	t.Parallel()
	ex := find(t, "rust-minimal")
	// A copy: cargo writes Cargo.lock and target/ next to the sources.
	dir := filepath.Join(t.TempDir(), ex.dir)
	if err := os.CopyFS(dir, os.DirFS(mustAbs(t, ex.dir))); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "target")
	env := append(testenv.CargoEnv(t), "CARGO_TARGET_DIR="+target)
	for _, args := range [][]string{{"test", "--offline"}, {"build", "--offline"}} {
		if out, err := testenv.Command(dir, env, "cargo", args...).CombinedOutput(); err != nil {
			t.Fatalf("cargo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	bin := filepath.Join(target, "debug", settings.Handler)
	checkELF(t, bin, settings.HostArch())
	invoke(t, bin, ex)
}

// TestRustOfficialExample checks what can be checked without crates.io
// (lambda_runtime and tokio are not packaged for Debian 12): the sources
// are formatted Rust and Cargo.toml is valid TOML with the expected
// binary, dependencies and tuned profile.
func TestRustOfficialExample(t *testing.T) {
	dir := mustAbs(t, "rust-official")
	srcs, err := filepath.Glob(filepath.Join(dir, "src", "*.rs"))
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no Rust sources in %s/src: %v", dir, err)
	}
	testenv.LookPath(t, "rustfmt", "rustup component add rustfmt")
	args := append([]string{"--check", "--edition", "2021"}, srcs...)
	if out, err := exec.Command("rustfmt", args...).CombinedOutput(); err != nil {
		t.Errorf("rustfmt --check: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "Cargo.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Bin []struct {
			Name string `toml:"name"`
		} `toml:"bin"`
		Dependencies map[string]any `toml:"dependencies"`
		Profile      struct {
			Release map[string]any `toml:"release"`
		} `toml:"profile"`
	}
	if err := toml.Unmarshal(data, &m); err != nil {
		t.Fatalf("Cargo.toml: %v", err)
	}
	if len(m.Bin) != 1 || m.Bin[0].Name != settings.Handler {
		t.Errorf("Cargo.toml [[bin]] = %+v, want one named %s", m.Bin, settings.Handler)
	}
	for _, dep := range []string{"lambda_runtime", "tokio", "serde", "serde_json"} {
		if _, ok := m.Dependencies[dep]; !ok {
			t.Errorf("Cargo.toml lacks dependency %s", dep)
		}
	}
	for _, k := range settings.RustProfile() {
		var v map[string]any
		if err := toml.Unmarshal([]byte("v = "+k.Value), &v); err != nil {
			t.Fatal(err)
		}
		if got, want := m.Profile.Release[k.Key], v["v"]; got != want {
			t.Errorf("[profile.release] %s = %v, want %v", k.Key, got, want)
		}
	}
}

// TestFloor builds the floors (examples/floor: floor.c and its Go
// counterpart) as the benchmark does and checks that they answer: a floor
// that fails would make every ratio to it meaningless.
func TestFloor(t *testing.T) {
	cc := "musl-gcc"
	if _, err := exec.LookPath(cc); err != nil {
		cc = testenv.LookPath(t, "gcc", "gcc")
	}
	out := t.TempDir()
	bin := filepath.Join(out, "c", "bootstrap")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-static", "-O2", "-s", "-o", bin, mustAbs(t, "floor/floor.c")).CombinedOutput(); err != nil {
		t.Fatalf("%s floor.c: %v\n%s", cc, err, out)
	}
	invoke(t, bin, example{dir: "floor", expect: `{"ok":true}`})

	gb := settings.Go(settings.HostArch())
	goBin := filepath.Join(out, "go", "bootstrap")
	goCmd(t, mustAbs(t, "."), gb.Env, append(append([]string{"build"}, gb.Flags...), "-o", goBin, "./floor/gofloor")...)
	invoke(t, goBin, example{dir: "floor", expect: `{"ok":true}`})
}

// invoke runs bin against the Runtime API emulator as verify does: one
// cold start and two warm invocations with ex's sample event, each
// answer checked.
func invoke(t *testing.T, bin string, ex example) {
	t.Helper()
	opts := verify.Options{Samples: 1, Warm: 2, InitTimeout: 20 * time.Second}
	if ex.dir != "floor" {
		event, err := os.ReadFile(filepath.Join(mustAbs(t, ex.dir), "testdata", "event.json"))
		if err != nil {
			t.Fatal(err)
		}
		opts.Event = event
	}
	exp, err := verify.ParseExpect(ex.expect)
	if err != nil {
		t.Fatal(err)
	}
	opts.Expect = exp
	tg, err := verify.PrepareBootstrap(bin, verify.PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	runs, err := verify.Measure(context.Background(), []*verify.Target{tg}, opts)
	if err != nil {
		t.Fatalf("measuring: %v", err)
	}
	if f := runs[0].Failure; f != nil {
		t.Fatalf("%s: %v\n%s", ex.dir, f, f.Output)
	}
}

func goCmd(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	// Each example is a module of its own; GOWORK=off keeps a go.work
	// above the repository from pulling it into another build.
	cmd := testenv.Command(dir, append([]string{"GOWORK=off", "GOFLAGS="}, env...), "go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), filepath.Base(dir), err, out)
	}
}

func checkELF(t *testing.T, bin string, arch settings.Arch) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != arch.ELFMachine() {
		t.Errorf("%s is built for %v, want %v", bin, f.Machine, arch.ELFMachine())
	}
}

func find(t *testing.T, dir string) example {
	t.Helper()
	for _, ex := range examples {
		if ex.dir == dir {
			return ex
		}
	}
	t.Fatalf("no example %s", dir)
	return example{}
}

func mustAbs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel) // go test runs in the package folder, examples/
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// update rewrites the examples from the templates (keeping the edited
// files): go test ./examples -run Templates -update.
var update = flag.Bool("update", false, "rewrite the examples from the templates, keeping their edited files")
