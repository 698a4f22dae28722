package awslambda_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/awslambda/lambdatest"
)

func TestRunProjectMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function for two architectures")
	}
	srv := double(t, lambdatest.Options{})
	dir := project(t, settings.ARM64, "0")
	o := options(3, 2)
	o.MemoryMB = []int{128, 512}
	o.Arches = []settings.Arch{settings.X86_64, settings.ARM64}
	o.Warm = 1
	res, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: dir, Path: dir}}, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Account != lambdatest.Account || res.Region != lambdatest.Region {
		t.Errorf("account %s region %s", res.Account, res.Region)
	}
	want := []string{"arm64 128 MB", "arm64 512 MB", "x86_64 128 MB", "x86_64 512 MB"}
	if len(res.Configurations) != len(want) {
		t.Fatalf("%d configurations, want %d", len(res.Configurations), len(want))
	}
	for i, c := range res.Configurations {
		if c.Label != want[i] {
			t.Errorf("configuration %d is %q, want %q", i, c.Label, want[i])
		}
		if len(c.Samples) != 3 {
			t.Errorf("%s: %d cold samples, want 3", c.Label, len(c.Samples))
		}
		for _, s := range c.Samples {
			if s.InitMs <= 0 || s.ColdStartMs < s.InitMs || s.BilledMs < s.InitMs || s.RoundTripMs <= 0 {
				t.Errorf("%s: implausible sample %+v", c.Label, s)
			}
		}
		if len(c.WarmMs) == 0 {
			t.Errorf("%s: no warm invocations", c.Label)
		}
		if c.Cost.ColdStartUSD <= 0 || c.Cost.WarmMillionUSD <= 0 || c.Cost.RunUSD <= 0 {
			t.Errorf("%s: cost %+v", c.Label, c.Cost)
		}
		if c.Package != "Zip" || c.Function == "" {
			t.Errorf("%s: package %q function %q", c.Label, c.Package, c.Function)
		}
	}
	// 3 samples, 2 at a time: two rounds, the second after a new nonce.
	if res.Rounds != 2 {
		t.Errorf("%d rounds, want 2", res.Rounds)
	}
	if n := srv.Calls("lambda:UpdateFunctionConfiguration"); n != 4 {
		t.Errorf("%d configuration changes, want 4 (one per function for round 2)", n)
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}
	if n := len(srv.Deleted()); n != 4 {
		t.Errorf("%d functions deleted, want 4", n)
	}
}

// Options.Program picks the function of a repository with several, as
// fnopt.yaml's build.main does: here a second main package that fails in
// init, so the run fails only when that package is the one deployed.
func TestRunProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function twice")
	}
	double(t, lambdatest.Options{})
	dir := project(t, settings.HostArch(), "0")
	if err := os.MkdirAll(filepath.Join(dir, "cmd", "crash"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cmd", "crash", "main.go"), []byte(crashingMain), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		program string
		fails   bool
	}{
		{"", false}, // fnopt.yaml's: the root package
		{"./cmd/crash", true},
	} {
		o := options(1, 1)
		o.Program = tc.program
		_, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: dir, Path: dir}}, o)
		var fe *awslambda.FunctionError
		if got := errors.As(err, &fe) && fe.Phase == "init"; got != tc.fails {
			t.Errorf("Program %q: err = %v, want an init failure: %v", tc.program, err, tc.fails)
		}
		if !tc.fails && err != nil {
			t.Errorf("Program %q: %v", tc.program, err)
		}
	}
}
