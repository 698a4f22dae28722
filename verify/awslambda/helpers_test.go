package awslambda_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/awslambda/lambdatest"
)

// testRole is an execution role as IAM spells one.
const testRole = "arn:aws:iam::123456789012:role/fnopt-verify"

// fastBackoff keeps tests short: the double's state changes take tens of
// milliseconds, not Lambda's seconds.
var fastBackoff = awslambda.Backoff{First: 10 * time.Millisecond, Max: 2 * time.Second, Poll: 10 * time.Millisecond}

// project writes the gate experiment's function (a standard-library
// runtime client, so it builds offline) into a new folder, with arch in
// its fnopt.yaml and initWork rounds of work in its init.
func project(t *testing.T, arch settings.Arch, initWork string) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeProject(dir, arch, initWork); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeProject(dir string, arch settings.Arch, initWork string) error {
	src := filepath.Join("..", "..", "examples", "gateexperiment", "function")
	for _, name := range []string{"main.go", "work.go", "go.mod", "fnopt.yaml"} {
		data, err := os.ReadFile(filepath.Join(src, name+".txt"))
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(data), "{{.InitWork}}", initWork)
		s = strings.ReplaceAll(s, "{{.Arch}}", string(arch))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// built is the function's zip for this machine, made once for the whole
// package: compiling takes seconds, and most tests deploy the same
// function. TestMain removes its folder.
var built struct {
	once     sync.Once
	dir, zip string
	err      error
}

// hostZip is the shared zip (see built).
func hostZip(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "fnopt-awslambda-test-"); built.err != nil {
			return
		}
		fn := filepath.Join(built.dir, "fn")
		if built.err = os.Mkdir(fn, 0o755); built.err != nil {
			return
		}
		if built.err = writeProject(fn, settings.HostArch(), "0"); built.err != nil {
			return
		}
		res, err := dist.Produce(context.Background(), fn, dist.Options{Package: "zip", OutDir: filepath.Join(built.dir, "out")})
		if err != nil {
			built.err = err
			return
		}
		built.zip = res.Zip.Path
	})
	if built.err != nil {
		t.Fatalf("building the test function: %v", built.err)
	}
	return built.zip
}

// double starts a protocol double and points the SDK at it.
func double(t *testing.T, o lambdatest.Options) *lambdatest.Server {
	t.Helper()
	srv := lambdatest.Start(t, o)
	srv.SetEnv(t)
	return srv
}

func options(samples, concurrency int) awslambda.Options {
	return awslambda.Options{Role: testRole, Samples: samples, Concurrency: concurrency, Backoff: fastBackoff}
}

// crashingMain is a function that exits during init.
const crashingMain = "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Fprintln(os.Stderr, \"config missing: TABLE_NAME\")\n\tos.Exit(3)\n}\n"

// crashingProject is a project whose function fails in init.
func crashingProject(t *testing.T, arch settings.Arch) string {
	t.Helper()
	dir := project(t, arch, "0")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(crashingMain), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "work.go")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// cancelAt cancels a run when it reaches a stage, or after its first
// cold samples ("samples").
type cancelAt struct {
	stage  string
	cancel context.CancelFunc
}

func (c *cancelAt) Stage(s string) {
	if strings.HasPrefix(s, c.stage) {
		c.cancel()
	}
}

func (c *cancelAt) Samples(done, total int) {
	if c.stage == "samples" {
		c.cancel()
	}
}
