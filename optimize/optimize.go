// Package optimize brings an existing function's build to fnopt's tuned
// settings: it analyses the project (optimize/project), traces a Go
// function's init (optimize/inittrace), measures the plan's gain when asked
// (optimize/proof) and applies the plan. Run is what `fnopt optimize` does;
// the command only renders its Result.
package optimize

import (
	"context"
	"time"

	"github.com/fnopt/fnopt/optimize/inittrace"
	"github.com/fnopt/fnopt/optimize/project"
	"github.com/fnopt/fnopt/optimize/proof"
)

// Options say what Run does besides planning.
type Options struct {
	// Init traces a Go function's package initialisation; a failed trace is
	// reported in Result.InitError, not as Run's error.
	Init bool
	// InitTimeout bounds the traced run (default inittrace's).
	InitTimeout time.Duration
	// Verify builds the project before and after the plan and measures
	// both, with Proof's settings.
	Verify bool
	Proof  proof.Options
	// Apply writes the plan's edits through Writer (default the file
	// system), all of them or none.
	Apply  bool
	Writer project.Writer
}

// Result is what Run found and did.
type Result struct {
	Plan *project.Plan
	// Diff is the plan's edits as a unified diff ("" when there are none).
	Diff string
	// Init is the init trace of a Go function; InitError says why there is
	// none when one was asked for.
	Init      *inittrace.Report
	InitError string
	Verify    *proof.Report
	// Applied lists the files the plan changed.
	Applied []string
	// Late is set when ctx was cancelled while the plan was being applied:
	// the edits were finished (files are never left half-changed), and the
	// caller should say so.
	Late bool
}

// ErrInterrupted is returned when ctx is cancelled before anything was
// written.
type ErrInterrupted struct{}

func (ErrInterrupted) Error() string { return "interrupted: nothing was written" }

// Run analyses the project in dir, traces and measures as asked, and
// applies the plan when o.Apply is set. Nothing is written unless the
// plan was checked whole; once writing starts it is finished even if ctx is
// cancelled, since stopping between two files would leave some changed
// and others not.
func Run(ctx context.Context, dir string, o Options) (*Result, error) {
	plan, err := project.Analyze(dir)
	if err != nil {
		return nil, err
	}
	if o.Apply {
		// Said before the trace and the measurement, which take a while:
		// a plan that cannot be applied whole is not applied at all.
		if err := plan.Refusal(); err != nil {
			return nil, err
		}
	}
	diff, err := plan.Diff()
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: plan, Diff: diff}
	if o.Init && plan.Project.Language == "go" {
		rep, err := inittrace.Analyze(ctx, dir, inittrace.Options{Timeout: o.InitTimeout})
		if err != nil {
			res.InitError = err.Error()
		} else {
			res.Init = rep
		}
	}
	if o.Verify {
		if res.Verify, err = proof.Compare(ctx, dir, plan, o.Proof); err != nil {
			return nil, err
		}
	}
	if ctx.Err() != nil {
		return nil, ErrInterrupted{}
	}
	if o.Apply {
		w := o.Writer
		if w == nil {
			w = project.OSWriter{}
		}
		if res.Applied, err = project.Apply(plan, w); err != nil {
			return nil, err
		}
		res.Late = ctx.Err() != nil
	}
	return res, nil
}
