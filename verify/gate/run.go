package gate

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

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
	m, err := against(ctx, cfg, AgainstOptions{Dir: o.Target, Rev: rev, Measure: o.Measure, Prepare: o.Prepare})
	if err != nil {
		return nil, err
	}
	return evaluate(o, m.Before, m.After, cfg, m.Notes)
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
	// Result is the verdict against Compare; nil when there was none.
	Result *Result
}

// RunBaseline measures o.Target once, saves the measurement to o.Save and
// compares it with the baseline in o.Compare, as asked. The baseline to
// compare with is read first, so that a bad file costs no measurement.
// When the comparison fails after the save, the error comes with the
// BaselineRun that says what was saved.
func RunBaseline(ctx context.Context, o BaselineOptions) (*BaselineRun, error) {
	var old *Baseline
	if o.Compare != "" {
		b, err := LoadBaseline(o.Compare)
		if err != nil {
			return nil, err
		}
		old = b
	}
	cfg, deploy := projectConfig(o.Target)
	t, err := verify.Prepare(ctx, o.Target, o.Prepare)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	runs, err := verify.Measure(ctx, []*verify.Target{t}, o.Measure)
	if err != nil {
		return nil, err
	}
	br := &BaselineRun{Run: runs[0]}
	if br.Run.Failure != nil {
		return br, nil
	}
	if deploy == "" {
		deploy = t.Arch
	}
	now := Side{Label: "this run (" + o.Target + ")", Samples: br.Run.Samples, Sizes: Sizes(t, deploy), Artifact: "zip"}
	mo := o.Measure
	measured := Settings{Samples: mo.Samples, Warm: mo.Warm, MemoryMB: mo.Function.MemoryMB, ColdCache: mo.ColdCache}

	if o.Save != "" {
		b := NewBaseline(br.Run.Samples, time.Now())
		b.FnoptVersion = fnoptVersion()
		b.Target = o.Target
		b.Revision, b.Dirty = gitRevision(ctx, o.Target)
		b.Machine = verify.ThisMachine()
		b.Settings = measured
		b.Sizes, b.Artifact = now.Sizes, now.Artifact
		if err := SaveBaseline(o.Save, b); err != nil {
			return nil, err
		}
		br.Saved = b
	}
	if old == nil {
		return br, nil
	}
	label := fmt.Sprintf("baseline %s (%s", o.Compare, old.Created.Format("2006-01-02 15:04 UTC"))
	if old.Revision != "" {
		label += ", " + short(old.Revision)
	}
	// The baseline was measured at another time, maybe elsewhere: say
	// how, after what the measurement itself could not do as asked.
	notes := append(slices.Clone(br.Run.Notes), old.Differences(verify.ThisMachine(), measured)...)
	res, err := evaluate(o.Options, old.Side(label+")"), now, cfg, notes)
	if err != nil {
		return br, err
	}
	br.Result = res
	return br, nil
}

// evaluate decides before against after with o's thresholds and the
// budgets of cfg (nil: none), and adds notes to the warnings.
func evaluate(o Options, before, after Side, cfg *config.Config, notes []string) (*Result, error) {
	in := Input{Before: before, After: after, Thresholds: o.Thresholds}
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
