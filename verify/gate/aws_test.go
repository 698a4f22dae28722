package gate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/awslambda/lambdatest"
)

// awsOptions measure n cold starts per side on the double, quickly.
func awsOptions(n int) awslambda.Options {
	return awslambda.Options{
		Role: "arn:aws:iam::123456789012:role/fnopt-verify", Samples: n, Concurrency: 3,
		Backoff: awslambda.Backoff{First: 10 * time.Millisecond, Poll: 10 * time.Millisecond},
	}
}

func TestRunAgainstAWS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions")
	}
	srv := lambdatest.Start(t, lambdatest.Options{})
	srv.SetEnv(t)
	// The working tree adds tens of milliseconds of init work.
	repo := functionRepo(t, functionFiles(t, "0"), map[string]string{"work.go": functionFiles(t, "30000000")["work.go"]})
	run, err := RunAgainstAWS(context.Background(), "HEAD", gateOptions(filepath.Join(repo, "fn"), 6), awsOptions(6))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(run.Result.Failures(), "\n"); !strings.Contains(got, "init regressed") {
		t.Errorf("failures %q lack the init regression", got)
	}
	if len(run.Lambda.Configurations) != 2 || len(run.Result.Before.Samples) != 6 || len(run.Result.After.Samples) != 6 {
		t.Errorf("%d configurations, %d and %d samples", len(run.Lambda.Configurations), len(run.Result.Before.Samples), len(run.Result.After.Samples))
	}
	if !strings.HasPrefix(run.Result.Before.Label, "HEAD (") || run.Result.After.Label != "working tree" {
		t.Errorf("labels %q, %q", run.Result.Before.Label, run.Result.After.Label)
	}
	// Both deployed and measured in rounds A B, then B A.
	if run.Lambda.Rounds != 2 {
		t.Errorf("%d rounds, want 2", run.Lambda.Rounds)
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}
	if n := worktreeCount(t, repo); n != 1 {
		t.Errorf("%d worktrees left", n)
	}
}

func TestRunBaselineAWS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function")
	}
	srv := lambdatest.Start(t, lambdatest.Options{})
	srv.SetEnv(t)
	repo := functionRepo(t, functionFiles(t, "0"), nil)
	dir := filepath.Join(repo, "fn")
	base := filepath.Join(t.TempDir(), "base.json")
	o := BaselineOptions{Options: gateOptions(dir, 6), Save: base}
	run, err := RunBaselineAWS(context.Background(), o, awsOptions(6))
	if err != nil {
		t.Fatal(err)
	}
	if run.Saved == nil || run.Result != nil || run.Saved.Machine.CPU != "AWS Lambda "+lambdatest.Region {
		t.Fatalf("saved %+v, result %v", run.Saved, run.Result)
	}
	o = BaselineOptions{Options: gateOptions(dir, 6), Compare: base}
	run, err = RunBaselineAWS(context.Background(), o, awsOptions(6))
	if err != nil {
		t.Fatal(err)
	}
	if run.Result == nil || len(run.Result.Before.Samples) != 6 {
		t.Fatalf("result %+v", run.Result)
	}
	if left := srv.Functions(); len(left) != 0 {
		t.Errorf("functions left behind: %v", left)
	}

	// A matrix is refused before anything is deployed.
	ao := awsOptions(6)
	ao.MemoryMB = []int{128, 256}
	if _, err := RunBaselineAWS(context.Background(), o, ao); err != ErrOneConfiguration {
		t.Errorf("a matrix: %v, want ErrOneConfiguration", err)
	}
}
