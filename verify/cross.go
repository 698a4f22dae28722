package verify

import (
	"context"
	"errors"
	"time"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// CrossRun is the deployed architecture's build of a target run once
// under emulation: proof that what ships starts and answers, not a timing
// (emulation is far slower than the real thing).
type CrossRun struct {
	// Arch is the architecture the build is for.
	Arch settings.Arch
	// Runner is the emulator that ran it; "" when none is installed and
	// nothing ran.
	Runner string
	// Err says how the run failed: a *Failure when the function failed,
	// another error when it could not be run; nil when it answered.
	Err error
}

// Ran reports whether an emulator ran the build.
func (c *CrossRun) Ran() bool { return c.Runner != "" }

// OK reports whether the build ran and answered.
func (c *CrossRun) OK() bool { return c.Ran() && c.Err == nil }

// CrossCheck runs t's deployed-architecture bootstrap (t.CrossBootstrap)
// once under qemu, through init and one invocation with o's event and
// expectation. It returns nil when t has no such build. A machine without
// qemu gives a CrossRun that did not run (Ran is false), not an error:
// what to say about it is the caller's.
func CrossCheck(ctx context.Context, t *Target, o Options) *CrossRun {
	if t.CrossBootstrap == "" {
		return nil
	}
	cr := &CrossRun{Arch: t.CrossArch, Runner: QemuPath(t.CrossArch)}
	if cr.Runner == "" {
		return cr
	}
	// Emulation is slow: allow it Lambda's whole init limit and at least
	// a minute to answer.
	o.InitTimeout, o.Timeout = InitLimit, max(o.Timeout, time.Minute)
	run, err := FunctionalCheck(ctx, t, o)
	switch {
	case err != nil:
		cr.Err = err
	case run == nil:
		// FunctionalCheck found no qemu after QemuPath did: it was
		// removed meanwhile.
		cr.Err = errors.New("not run")
	case run.Failure != nil:
		cr.Err = run.Failure
	}
	return cr
}
