package verify

import "context"

// Verification is one target measured, with its deployed build checked.
type Verification struct {
	// Run is the measurement; Run.Target describes what was measured
	// (its temporary files are gone).
	Run Run
	// Cross is the run of the deployed architecture's build under
	// emulation: nil when the target has none, or when the measurement
	// failed (a broken function need not be run twice).
	Cross *CrossRun
	// Budgets are the project's fnopt.yaml budgets applied to the
	// measurement: empty for targets that are not projects, and when the
	// function failed (its few samples say nothing about its budgets).
	Budgets BudgetCheck
}

// Pass reports whether the verification passed: every sample answered,
// the deployed build answered under emulation where it ran, and no budget
// was exceeded. `fnopt verify` exits 1 otherwise.
func (v *Verification) Pass() bool {
	return v.Run.OK() && (v.Cross == nil || !v.Cross.Ran() || v.Cross.OK()) && len(v.Budgets.Exceeded()) == 0
}

// Verify is `fnopt verify` of one target as a library call: it prepares
// the target at path (see Prepare), measures it, and when every sample
// succeeded runs its deployed-architecture build once under emulation
// (CrossCheck), and applies a project's fnopt.yaml budgets to the
// measurement (CheckBudgets). Whatever preparing made is removed before it returns. A
// function that fails is Run.Failure, not an error. An error with no
// Verification means the target could not be prepared; with one, that
// measuring stopped (cancelled, or the machine could not run it), and Run
// holds the samples taken until then.
func Verify(ctx context.Context, path string, po PrepareOptions, o Options) (*Verification, error) {
	t, err := Prepare(ctx, path, po)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	runs, err := Measure(ctx, []*Target{t}, o)
	v := &Verification{Run: runs[0]}
	if err != nil {
		return v, err
	}
	if v.Run.OK() {
		v.Cross = CrossCheck(ctx, t, o)
		v.Budgets = t.CheckBudgets(v.Run.Samples)
	}
	return v, nil
}
