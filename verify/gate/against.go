package gate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify"
)

// AgainstOptions say what to compare with --against.
type AgainstOptions struct {
	// Dir is the function's folder in the working tree.
	Dir string
	// Rev is the git revision to compare with (a branch, tag or hash).
	Rev string
	// Measure are the measurement options; Samples is per side.
	Measure verify.Options
	// Prepare are the options for building each side.
	Prepare verify.PrepareOptions
	// Adaptive, when set, samples in blocks until the gated metric is
	// decided with Thresholds (see Plan) instead of Measure.Samples per
	// side.
	Adaptive *Adaptive
	// Thresholds and Metric are what adaptive sampling decides on; Metric
	// "" is init.
	Thresholds Thresholds
	Metric     verify.Metric
}

// Measured is the outcome of measuring both sides.
type Measured struct {
	Before, After Side
	// Commit is the full hash of the revision measured as Before.
	Commit string
	// Notes say how measuring differed from what was asked.
	Notes []string
	// Sampling is how the samples were taken: fixed, or adaptively with
	// the looks.
	Sampling Sampling
}

// FunctionFailedError is a function that failed while being measured. It
// fails the gate (exit 1) when the change's build fails; when the base
// revision's build fails the gate cannot compare (exit 2), and Base says so.
type FunctionFailedError struct {
	Base    bool
	Failure *verify.Failure
}

func (e *FunctionFailedError) Error() string {
	side := "the working tree's function"
	if e.Base {
		side = "the base revision's function"
	}
	return fmt.Sprintf("%s failed: %v", side, e.Failure)
}

// Against builds the function at opts.Rev in a temporary worktree and in
// the working tree, and measures the two interleaved. The worktree and
// both builds are removed before it returns, whatever happens.
func Against(ctx context.Context, opts AgainstOptions) (*Measured, error) {
	cfg, err := config.Load(opts.Dir)
	if err != nil {
		return nil, err
	}
	return against(ctx, cfg, opts)
}

// against is Against with the project's configuration already read.
func against(ctx context.Context, cfg *config.Config, opts AgainstOptions) (*Measured, error) {
	var m *Measured
	err := WithWorktree(ctx, opts.Dir, opts.Rev, func(ctx context.Context, wt *Worktree) error {
		before, err := verify.PrepareProject(ctx, wt.Dir, opts.Prepare)
		if err != nil {
			return fmt.Errorf("building the function at %s: %w", opts.Rev, err)
		}
		defer before.Close()
		after, err := verify.PrepareProject(ctx, opts.Dir, opts.Prepare)
		if err != nil {
			return fmt.Errorf("building the function in the working tree: %w", err)
		}
		defer after.Close()

		runs, sampling, err := measurePair(ctx, before, after, opts)
		if err != nil {
			return err
		}
		deploy := cfg.Architecture()
		label := fmt.Sprintf("%s (%s)", opts.Rev, short(wt.Commit))
		if strings.HasPrefix(wt.Commit, opts.Rev) {
			label = "base " + short(wt.Commit) // CI passes a hash: say it once
		}
		m = &Measured{
			Before:   Side{Label: label, Samples: runs[0].Samples, Sizes: Sizes(before, deploy), Artifact: "zip"},
			After:    Side{Label: "working tree", Samples: runs[1].Samples, Sizes: Sizes(after, deploy), Artifact: "zip"},
			Commit:   wt.Commit,
			Notes:    mergeNotes(runs[0].Notes, runs[1].Notes),
			Sampling: sampling,
		}
		if runs[0].Failure != nil {
			return &FunctionFailedError{Base: true, Failure: runs[0].Failure}
		}
		if runs[1].Failure != nil {
			return &FunctionFailedError{Failure: runs[1].Failure}
		}
		return nil
	})
	if err != nil {
		return m, err
	}
	return m, nil
}

// MeasureBalanced measures a and b interleaved with the order alternating
// pair by pair (A B, B A, A B, ...), so neither side always runs first:
// whatever the first process of a pair leaves behind for the second
// (warm page cache, CPU frequency, a just-finished exit) hits both sides
// alike. Samples is per side. It returns the runs of a and b, in that
// order, and stops at the first failure.
func MeasureBalanced(ctx context.Context, a, b *verify.Target, opts verify.Options) ([2]verify.Run, error) {
	n := opts.Samples
	if n <= 0 {
		n = 30 // verify's default
	}
	runs := [2]verify.Run{{Target: a}, {Target: b}}
	err := measureBalanced(ctx, &runs, opts, n, n)
	return runs, err
}

// measureBalanced adds n balanced pairs to runs (of a and b, in that
// order), continuing the alternation where the samples already in runs
// left it; total is the pairs the whole measurement will have at most,
// for progress. It stops at the first failure, which is in the run's
// Failure.
func measureBalanced(ctx context.Context, runs *[2]verify.Run, opts verify.Options, n, total int) error {
	targets := [2]*verify.Target{runs[0].Target, runs[1].Target}
	progress := opts.Progress
	opts.Samples = 1
	first := len(runs[0].Samples)
	for i := first; i < first+n; i++ {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		if progress != nil {
			opts.Progress = func(done, _ int) { progress(2*i+done, 2*total) }
		}
		got, err := verify.Measure(ctx, []*verify.Target{targets[order[0]], targets[order[1]]}, opts)
		for j, r := range got {
			side := &runs[order[j]]
			side.Samples = append(side.Samples, r.Samples...)
			side.Notes = mergeNotes(side.Notes, r.Notes)
			// Enforced only when every pair's run was.
			side.Memory.Enforced = (i == 0 || side.Memory.Enforced) && r.Memory.Enforced
			side.Memory.Reasons = mergeNotes(side.Memory.Reasons, r.Memory.Reasons)
			if r.Failure != nil {
				r.Failure.Sample = len(side.Samples) + 1
				side.Failure = r.Failure
			}
		}
		if err != nil {
			return err
		}
		if runs[0].Failure != nil || runs[1].Failure != nil {
			return nil
		}
	}
	return nil
}

// measurePair measures before and after interleaved: Measure.Samples
// each, or with opts.Adaptive in blocks until the gated metric is
// decided. A function that fails stops the measurement, and is in the
// runs' Failure.
func measurePair(ctx context.Context, before, after *verify.Target, opts AgainstOptions) ([2]verify.Run, Sampling, error) {
	if opts.Adaptive == nil {
		runs, err := MeasureBalanced(ctx, before, after, opts.Measure)
		return runs, Sampling{}, err
	}
	plan, err := NewPlan(opts.Thresholds.Alpha, *opts.Adaptive, 0)
	if err != nil {
		return [2]verify.Run{}, Sampling{}, err
	}
	metric := gatedMetric(opts.Metric)
	runs := [2]verify.Run{{Target: before}, {Target: after}}
	maxN := plan.Samples[len(plan.Samples)-1]
	looks, err := sampleAdaptively(plan, opts.Thresholds, func(n int) ([]float64, []float64, error) {
		if err := measureBalanced(ctx, &runs, opts.Measure, n, maxN); err != nil {
			return nil, nil, err
		}
		if runs[0].Failure != nil || runs[1].Failure != nil {
			return nil, nil, errFunctionFailed
		}
		return verify.Values(runs[0].Samples, metric), verify.Values(runs[1].Samples, metric), nil
	})
	sampling := Sampling{Adaptive: true, MaxSamples: maxN, Looks: looks}
	if errors.Is(err, errFunctionFailed) {
		err = nil // the caller reads the failure from the runs
	}
	return runs, sampling, err
}

// errFunctionFailed stops adaptive sampling when a function failed.
var errFunctionFailed = errors.New("the function failed")

// gatedMetric is the metric a gate run decides on: m, or init when "".
func gatedMetric(m verify.Metric) verify.Metric {
	if m == "" {
		return verify.MetricInit
	}
	return m
}

// Sizes turns a target's artifacts into named sizes. Those of the
// deployed architecture keep their plain names ("zip"); a host build
// measured in its place is named with its architecture ("zip x86_64").
func Sizes(t *verify.Target, deploy settings.Arch) map[string]int64 {
	out := map[string]int64{}
	for _, a := range t.Artifacts {
		name := a.Name
		if a.Arch != "" && a.Arch != deploy {
			name += " " + string(a.Arch)
		}
		out[name] = a.Bytes
	}
	return out
}

func mergeNotes(a, b []string) []string {
	out := slices.Clone(a)
	for _, n := range b {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// IsBaseFailure reports whether err is the base revision's function
// failing, which means the gate could not compare (exit 2).
func IsBaseFailure(err error) bool {
	var fe *FunctionFailedError
	return errors.As(err, &fe) && fe.Base
}
