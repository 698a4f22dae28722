package gate

import (
	"context"
	"errors"
	"os"
	"slices"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify"
)

// Options say what the gate measures and how it decides. Commands fill
// them in from their flags.
type Options struct {
	// Target is the function: a project folder (RunAgainst needs one), or
	// for RunBaseline also a bootstrap, a zip or an image reference.
	Target string
	// Measure are the measurement options; Samples is per side.
	Measure verify.Options
	// Prepare say how targets are prepared (memory limit, registries).
	Prepare verify.PrepareOptions
	// Thresholds decide the verdict.
	Thresholds Thresholds
	// Metric is the gated metric; "" gates init (see Input.Gated).
	Metric verify.Metric
	// Adaptive, when set, samples adaptively: interleaved blocks until
	// the gated metric is decided against the thresholds, at most
	// Adaptive.MaxSamples per side (see Plan); Measure.Samples is then
	// unused. Nil takes Measure.Samples per side.
	Adaptive *Adaptive
	// Strict makes a run that could not tell fail to decide (exit status
	// 2, see Result.ExitCode) instead of passing.
	Strict bool
}

// RunAgainst builds the project in o.Target at git revision rev (in a
// temporary worktree) and as it is in the working tree, measures both
// interleaved, and decides, with the budgets of the project's fnopt.yaml.
// A function that fails is a *FunctionFailedError, which says whose.
func RunAgainst(ctx context.Context, rev string, o Options) (*Result, error) {
	cfg, err := config.Load(o.Target)
	if err != nil {
		return nil, err
	}
	m, err := against(ctx, cfg, AgainstOptions{
		Dir: o.Target, Rev: rev, Measure: o.Measure, Prepare: o.Prepare,
		Adaptive: o.Adaptive, Thresholds: o.Thresholds, Metric: o.Metric,
	})
	if err != nil {
		return nil, err
	}
	return evaluate(o, m.Before, m.After, cfg, m.Notes, m.Sampling)
}

// BaselineOptions are the baseline modes: measure o.Target once, then
// save the measurement, compare it with a saved one, or both.
type BaselineOptions struct {
	Options
	// Compare is a baseline file to compare the measurement with; ""
	// compares nothing.
	Compare string
	// Save is where the measurement is saved as a baseline; "" saves
	// nothing.
	Save string
}

// BaselineRun is what RunBaseline did.
type BaselineRun struct {
	// Run is the measurement of the target. When its function failed
	// (Run.Failure), nothing was saved or compared.
	Run verify.Run
	// Saved is the baseline written to Save; nil when none was.
	Saved *Baseline
	// Budgets are fnopt.yaml's budgets checked against the measurement
	// when there is no comparison (Result applies them otherwise): saving
	// a baseline checks them as plain verify does.
	Budgets verify.BudgetCheck
	// Result is the verdict against Compare; nil when there was none.
	Result *Result
}

// RunBaseline measures o.Target once, saves the measurement to o.Save and
// compares it with the baseline in o.Compare, as asked. The baseline to
// compare with is read first, so that a bad file costs no measurement.
// When the comparison fails after the save, the error comes with the
// BaselineRun that says what was saved.
func RunBaseline(ctx context.Context, o BaselineOptions) (*BaselineRun, error) {
	old, err := loadCompare(o.Compare)
	if err != nil {
		return nil, err
	}
	cfg, deploy := projectConfig(o.Target)
	t, err := verify.Prepare(ctx, o.Target, o.Prepare)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	run, sampling, err := measureAgainstBaseline(ctx, t, old, o.Options)
	if err != nil {
		return nil, err
	}
	br := &BaselineRun{Run: run}
	if br.Run.Failure != nil {
		return br, nil
	}
	if deploy == "" {
		deploy = t.Arch
	}
	now := Side{Label: "this run (" + o.Target + ")", Samples: br.Run.Samples, Sizes: Sizes(t, deploy), Artifact: "zip"}
	mo := o.Measure
	measured := Settings{Samples: len(br.Run.Samples), Warm: mo.Warm, MemoryMB: mo.Function.MemoryMB, ColdCache: mo.ColdCache}

	if o.Save != "" {
		br.Saved, err = saveBaseline(ctx, o.Save, o.Target, br.Run.Samples, now, verify.ThisMachine(), measured)
		if err != nil {
			return nil, err
		}
	}
	if old == nil {
		br.Budgets = t.CheckBudgets(br.Run.Samples)
		return br, nil
	}
	// The baseline was measured at another time, maybe elsewhere: say
	// how, after what the measurement itself could not do as asked.
	notes := append(slices.Clone(br.Run.Notes), old.Differences(verify.ThisMachine(), measured)...)
	res, err := evaluate(o.Options, baselineSide(o.Compare, old), now, cfg, notes, sampling)
	if err != nil {
		return br, err
	}
	br.Result = res
	return br, nil
}

// measureAgainstBaseline measures t: Measure.Samples times, or with
// o.Adaptive in blocks until the gated metric is decided against the
// saved baseline old. With no baseline to compare with, there is nothing
// to decide, and adaptive sampling takes its cap: a saved baseline bounds
// the resolution of every comparison made with it later.
func measureAgainstBaseline(ctx context.Context, t *verify.Target, old *Baseline, o Options) (verify.Run, Sampling, error) {
	mo := o.Measure
	if o.Adaptive == nil || old == nil {
		if o.Adaptive != nil {
			mo.Samples = o.Adaptive.withDefaults().MaxSamples
		}
		runs, err := verify.Measure(ctx, []*verify.Target{t}, mo)
		if err != nil {
			return verify.Run{}, Sampling{}, err
		}
		return runs[0], Sampling{}, nil
	}
	metric := gatedMetric(o.Metric)
	before := verify.Values(old.Samples, metric)
	plan, err := NewPlan(o.Thresholds.Alpha, *o.Adaptive, len(old.Samples))
	if err != nil {
		return verify.Run{}, Sampling{}, err
	}
	run := verify.Run{Target: t}
	maxN := plan.Samples[len(plan.Samples)-1]
	progress := mo.Progress
	looks, err := sampleAdaptively(plan, o.Thresholds, func(n int) ([]float64, []float64, error) {
		m := mo
		m.Samples = n
		if progress != nil {
			done := len(run.Samples)
			m.Progress = func(d, _ int) { progress(done+d, maxN) }
		}
		runs, err := verify.Measure(ctx, []*verify.Target{t}, m)
		if err != nil {
			return nil, nil, err
		}
		r := runs[0]
		// The memory limit held only if it held in every block.
		r.Memory.Enforced = r.Memory.Enforced && (len(run.Samples) == 0 || run.Memory.Enforced)
		run.Samples = append(run.Samples, r.Samples...)
		run.Notes = mergeNotes(run.Notes, r.Notes)
		run.Memory = verify.MemoryLimit{Enforced: r.Memory.Enforced, Reasons: mergeNotes(run.Memory.Reasons, r.Memory.Reasons)}
		if r.Failure != nil {
			r.Failure.Sample += len(run.Samples) - len(r.Samples)
			run.Failure = r.Failure
			return nil, nil, errFunctionFailed
		}
		return before, verify.Values(run.Samples, metric), nil
	})
	sampling := Sampling{Adaptive: true, MaxSamples: maxN, Looks: looks}
	if errors.Is(err, errFunctionFailed) {
		err = nil // the caller reads the failure from the run
	}
	return run, sampling, err
}

// evaluate decides before against after with o's thresholds and the
// budgets of cfg (nil: none), and adds notes to the warnings. sampling
// says how the samples were taken.
func evaluate(o Options, before, after Side, cfg *config.Config, notes []string, sampling Sampling) (*Result, error) {
	in := Input{Before: before, After: after, Thresholds: o.Thresholds, Sampling: sampling, Strict: o.Strict}
	if o.Metric != "" {
		in.Gated = []verify.Metric{o.Metric}
	}
	if cfg != nil {
		in.Budgets = cfg.Budgets
		if cfg.Package != "zip" {
			// artifact_bytes of an image is its compressed layers,
			// which a project measurement does not produce.
			in.After.Artifact = ""
		}
	}
	res, err := Evaluate(in)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, notes...)
	return res, nil
}

// projectConfig reads fnopt.yaml when target is a project folder; budgets
// and the deployed architecture come from it. Other targets have neither.
func projectConfig(target string) (*config.Config, settings.Arch) {
	st, err := os.Stat(target)
	if err != nil || !st.IsDir() {
		return nil, ""
	}
	cfg, err := config.Load(target)
	if err != nil {
		return nil, ""
	}
	return cfg, cfg.Architecture()
}
