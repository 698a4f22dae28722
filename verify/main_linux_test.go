package verify

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify/sandbox"
)

// testBins holds the test bootstraps, built once for the whole package.
var testBins struct {
	dir      string
	fakefn   string // testdata/fakefn: behaviour chosen by its folder name
	lambdago string // testdata/lambdago: aws-lambda-go
	minimal  string // testdata/minimal: static C, the smallest runtime
}

func TestMain(m *testing.M) {
	// Image targets re-execute the test binary as the sandbox's init.
	sandbox.MaybeRunInit()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fnopt-verify-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer os.RemoveAll(dir)
	testBins.dir = dir
	testBins.fakefn = filepath.Join(dir, "fakefn")
	testBins.lambdago = filepath.Join(dir, "lambdago")
	for out, pkg := range map[string]string{testBins.fakefn: "./testdata/fakefn", testBins.lambdago: "./testdata/lambdago"} {
		cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", pkg, err, b)
			return 2
		}
	}
	testBins.minimal = filepath.Join(dir, "minimal")
	if err := buildMinimal(testBins.minimal); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return m.Run()
}

// buildMinimal compiles testdata/minimal statically, with musl when
// installed (make setup brings musl-tools), else glibc.
func buildMinimal(out string) error {
	cc := "musl-gcc"
	if _, err := exec.LookPath(cc); err != nil {
		cc = "gcc"
	}
	if b, err := exec.Command(cc, "-static", "-O2", "-o", out, "testdata/minimal/main.c").CombinedOutput(); err != nil {
		return fmt.Errorf("building testdata/minimal with %s: %v\n%s", cc, err, b)
	}
	return nil
}

// fakeTarget links the fakefn binary as DIR/<mode>/bootstrap, so that it
// behaves as mode says.
func fakeTarget(t *testing.T, mode string) *Target {
	t.Helper()
	root := filepath.Join(t.TempDir(), mode)
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	boot := filepath.Join(root, "bootstrap")
	if err := os.Link(testBins.fakefn, boot); err != nil {
		t.Fatal(err)
	}
	tg, err := PrepareBootstrap(boot, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tg.Name = mode
	return tg
}

func measure(t *testing.T, o Options, targets ...*Target) []Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	runs, err := Measure(ctx, targets, o)
	if err != nil {
		t.Fatalf("Measure: %v", err)
	}
	return runs
}

// ourChildren lists the processes whose parent is this test process,
// zombies included: after a measurement there must be none.
func ourChildren(t *testing.T) []testenv.Process {
	t.Helper()
	var out []testenv.Process
	for _, p := range testenv.Processes(t) {
		if p.PPID == os.Getpid() {
			out = append(out, p)
		}
	}
	return out
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
