package gate

import (
	"context"
	"errors"
	"fmt"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/awslambda"
)

// The gate on AWS Lambda: the same verdict, on samples Lambda measured
// (Init Duration and the rest of its REPORT lines) instead of local ones.
// It compares one configuration: one memory size, one architecture.

// ErrOneConfiguration: the gate compares one memory size and one
// architecture, not a matrix.
var ErrOneConfiguration = errors.New("the gate compares one configuration on Lambda: give one memory size and one architecture")

// AWSRun is a gate run on Lambda: the verdict, and what Lambda measured.
type AWSRun struct {
	// Result is the verdict; nil when only a baseline was saved, or when
	// a function failed.
	Result *Result
	// Lambda is the measurement: both sides' configurations for
	// --against, the one measured for a baseline.
	Lambda *awslambda.Result
	// Saved is the baseline written, when one was.
	Saved *Baseline
}

func checkOneConfiguration(ao awslambda.Options) error {
	if len(ao.MemoryMB) > 1 || len(ao.Arches) > 1 {
		return ErrOneConfiguration
	}
	return nil
}

// RunAgainstAWS builds the project in o.Target at git revision rev (in a
// temporary worktree) and in the working tree, deploys both to Lambda as
// two temporary functions measured in interleaved rounds (A B, B A, ...),
// and decides with o's thresholds and the budgets of fnopt.yaml. Samples
// per side are ao.Samples. A function's failure is returned as
// *awslambda.FunctionError with what was measured.
func RunAgainstAWS(ctx context.Context, rev string, o Options, ao awslambda.Options) (*AWSRun, error) {
	if err := checkOneConfiguration(ao); err != nil {
		return nil, err
	}
	cfg, err := config.Load(o.Target)
	if err != nil {
		return nil, err
	}
	run := &AWSRun{}
	var label string
	err = WithWorktree(ctx, o.Target, rev, func(ctx context.Context, wt *Worktree) error {
		label = fmt.Sprintf("%s (%s)", rev, short(wt.Commit))
		if len(wt.Commit) >= len(rev) && wt.Commit[:len(rev)] == rev {
			label = "base " + short(wt.Commit)
		}
		var err error
		run.Lambda, err = awslambda.Run(ctx, []awslambda.Source{{Label: label, Path: wt.Dir}, {Label: "working tree", Path: o.Target}}, ao)
		return err
	})
	if err != nil {
		return run, err
	}
	before, after := run.Lambda.Configurations[0], run.Lambda.Configurations[1]
	in := Input{
		Before:     awsSide(label, before),
		After:      awsSide("working tree", after),
		Thresholds: o.Thresholds,
		Budgets:    lambdaBudgets(cfg),
		Strict:     o.Strict,
	}
	if o.Metric != "" {
		in.Gated = []verify.Metric{o.Metric}
	}
	run.Result, err = Evaluate(in)
	if err != nil {
		return run, err
	}
	run.Result.Warnings = append(run.Result.Warnings, awsNote(run.Lambda, after))
	run.Result.Warnings = append(run.Result.Warnings, localBudgetsNote(cfg)...)
	return run, nil
}

// RunBaselineAWS measures o.Target on Lambda, then saves the measurement
// to o.Save and compares it with the baseline in o.Compare, as asked. The
// baseline to compare with is read first, so that a bad file costs no
// deployment.
func RunBaselineAWS(ctx context.Context, o BaselineOptions, ao awslambda.Options) (*AWSRun, error) {
	if err := checkOneConfiguration(ao); err != nil {
		return nil, err
	}
	old, err := loadCompare(o.Compare)
	if err != nil {
		return nil, err
	}
	cfg, _ := projectConfig(o.Target)
	run := &AWSRun{}
	run.Lambda, err = awslambda.Run(ctx, []awslambda.Source{{Label: o.Target, Path: o.Target}}, ao)
	if err != nil {
		return run, err
	}
	c := run.Lambda.Configurations[0]
	now := awsSide("this run ("+o.Target+")", c)
	machine := LambdaMachine(run.Lambda.Region, c)
	measured := Settings{Samples: len(c.Samples), Warm: ao.Warm, MemoryMB: c.MemoryMB}
	if o.Save != "" {
		run.Saved, err = saveBaseline(ctx, o.Save, o.Target, c.VerifySamples(), now, machine, measured)
		if err != nil {
			return run, err
		}
	}
	if old == nil {
		return run, nil
	}
	in := Input{Before: baselineSide(o.Compare, old), After: now, Thresholds: o.Thresholds, Strict: o.Strict}
	if cfg != nil {
		in.Budgets = lambdaBudgets(cfg)
	}
	if o.Metric != "" {
		in.Gated = []verify.Metric{o.Metric}
	}
	run.Result, err = Evaluate(in)
	if err != nil {
		return run, err
	}
	run.Result.Warnings = append(run.Result.Warnings, awsNote(run.Lambda, c))
	run.Result.Warnings = append(run.Result.Warnings, old.Differences(machine, measured)...)
	if cfg != nil {
		run.Result.Warnings = append(run.Result.Warnings, localBudgetsNote(cfg)...)
	}
	return run, nil
}

// lambdaBudgets are the budgets of fnopt.yaml that hold on Lambda: the
// artifact's size. The init budgets are limits for local measurements
// (docs/verify.md); Lambda's Init Duration is several times larger.
func lambdaBudgets(cfg *config.Config) config.Budgets {
	return config.Budgets{ArtifactBytes: cfg.Budgets.ArtifactBytes}
}

// localBudgetsNote says that fnopt.yaml's init budgets were not applied.
func localBudgetsNote(cfg *config.Config) []string {
	if cfg.Budgets.InitP50Ms > 0 || cfg.Budgets.InitP90Ms > 0 {
		return []string{"fnopt.yaml's init budgets are limits for local measurements: not checked against Lambda's Init Duration"}
	}
	return nil
}

// LambdaMachine describes where a configuration ran, in a baseline's
// terms: a baseline measured locally and a run on Lambda (or on another
// region or architecture) then differ, and the comparison says so.
func LambdaMachine(region string, c *awslambda.Configuration) verify.Machine {
	return verify.Machine{CPU: "AWS Lambda " + region, Arch: string(c.Arch)}
}

// awsSide is one configuration as a side of the comparison.
func awsSide(label string, c *awslambda.Configuration) Side {
	s := Side{Label: label, Samples: c.VerifySamples(), Sizes: map[string]int64{}}
	for _, a := range c.Artifacts {
		s.Sizes[a.Name] = a.Bytes
	}
	if _, ok := s.Sizes["zip"]; ok {
		s.Artifact = "zip"
	}
	return s
}

// awsNote says where the samples were taken.
func awsNote(r *awslambda.Result, c *awslambda.Configuration) string {
	return fmt.Sprintf("measured on AWS Lambda in %s: %s, %d rounds of cold starts (init is Lambda's Init Duration)", r.Region, c.Label, r.Rounds)
}
