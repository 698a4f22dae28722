package awslambda_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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
	src := filepath.Join("..", "..", "examples", "gateexperiment", "function")
	for _, name := range []string{"main.go", "work.go", "go.mod", "fnopt.yaml"} {
		data, err := os.ReadFile(filepath.Join(src, name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(data), "{{.InitWork}}", initWork)
		s = strings.ReplaceAll(s, "{{.Arch}}", string(arch))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// zipOf builds a project's deployment zip for arch, as fnopt build does.
func zipOf(t *testing.T, dir string, arch settings.Arch) string {
	t.Helper()
	out := t.TempDir()
	res, err := dist.Produce(context.Background(), dir, dist.Options{Arch: arch, Package: "zip", OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	return res.Zip.Path
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
