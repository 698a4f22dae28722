package verifycmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/gate"
)

// gateExt is the CI gate: --baseline, --save-baseline and --against, with
// the verdict's thresholds and the report's format. It is an Extension of
// `fnopt verify`; the library is verify/gate.
type gateExt struct {
	flags *pflag.FlagSet

	saveBaseline  string
	baseline      string
	against       string
	maxRegression float64
	minDelta      float64
	maxSizeGrowth float64
	alpha         float64
	metric        string
	format        string
	plot          string
	maxSamples    int
	strict        bool
}

func (g *gateExt) AddFlags(f *pflag.FlagSet) {
	g.flags = f
	if s := f.Lookup("samples"); s != nil {
		s.Usage += " (per side with --against, --baseline or --save-baseline, where auto is the default: sample until the verdict is decided, at most --max-samples)"
	}
	f.StringVar(&g.saveBaseline, "save-baseline", "", "save the samples, summary and sizes to `FILE` as a baseline")
	f.StringVar(&g.baseline, "baseline", "", "compare with the baseline in `FILE`; exit 1 on a regression")
	f.StringVar(&g.against, "against", "", "build the function at git revision `REV` too and compare, measured interleaved; exit 1 on a regression")
	f.Float64Var(&g.maxRegression, "max-regression", gate.DefaultMaxRegressionPct, "gate: tolerated slowdown in `PERCENT` (Hodges-Lehmann shift of the gated metric)")
	f.Float64Var(&g.minDelta, "min-delta", gate.DefaultMinDeltaMs, "gate: smallest slowdown in `MS` that can fail")
	f.Float64Var(&g.maxSizeGrowth, "max-size-growth", gate.DefaultMaxSizeGrowthPct, "gate: tolerated artifact growth in `PERCENT`; negative turns it off")
	f.Float64Var(&g.alpha, "alpha", gate.DefaultAlpha, "gate: significance level of the Mann-Whitney U test")
	f.StringVar(&g.metric, "gate-metric", "init", "gate: the metric that fails the gate: init, cold-start, first-invoke or warm-invoke")
	f.StringVar(&g.format, "format", "text", "gate: report format: text, json or markdown")
	f.StringVar(&g.plot, "plot", "", "gate: draw both distributions of the gated metric to `FILE`.svg or .png")
	f.IntVar(&g.maxSamples, "max-samples", gate.DefaultMaxSamples, "gate: with --samples auto, at most `N` cold starts per side; saving a baseline alone takes N")
	f.BoolVar(&g.strict, "strict", false, "gate: exit 2 when the run could not tell (its minimum detectable effect is above the threshold) instead of passing")
}

func (g *gateExt) Active() bool {
	return g.saveBaseline != "" || g.baseline != "" || g.against != ""
}

// options checks the flags and translates them into the library's
// options, and the report's format. fixed is the samples per side a
// target that measures a set count per run (Lambda, where each run
// deploys its functions) takes without --samples; 0 samples adaptively,
// as the gate does on this machine.
func (g *gateExt) options(o *Options, fixed int) (gate.Options, gate.Format, error) {
	var none gate.Options
	if g.against != "" && g.baseline != "" {
		return none, "", errors.New("--against and --baseline are two ways to compare: use one")
	}
	if g.against != "" && g.saveBaseline != "" {
		return none, "", errors.New("--save-baseline saves one measurement; it does not combine with --against")
	}
	if o.Serve {
		return none, "", errors.New("--serve does not combine with the gate flags")
	}
	if g.plot != "" && g.baseline == "" && g.against == "" {
		return none, "", errors.New("--plot draws a comparison: use it with --baseline or --against")
	}
	if g.strict && g.baseline == "" && g.against == "" {
		return none, "", errors.New("--strict judges a comparison: use it with --baseline or --against")
	}
	if ext := strings.ToLower(filepath.Ext(g.plot)); g.plot != "" && ext != ".svg" && ext != ".png" {
		return none, "", fmt.Errorf("--plot %s: the file name must end in .svg or .png", g.plot)
	}
	format := g.format
	if o.JSON && !g.flags.Changed("format") {
		format = "json" // --json means JSON, here too
	}
	f, err := gate.ParseFormat(format)
	if err != nil {
		return none, "", fmt.Errorf("--format: %w", err)
	}
	m, err := gate.ParseGateMetric(g.metric)
	if err != nil {
		return none, "", fmt.Errorf("--gate-metric: %w", err)
	}
	if m == verify.MetricWarmInvoke && o.Warm == 0 {
		return none, "", errors.New("--gate-metric warm-invoke needs warm invocations: add --warm N")
	}
	th := gate.Thresholds{Alpha: g.alpha, MaxRegressionPct: g.maxRegression, MinDeltaMs: g.minDelta, MaxSizeGrowthPct: g.maxSizeGrowth}
	if err := th.Validate(); err != nil {
		return none, "", err
	}
	// The gate samples adaptively unless given a count: as many samples
	// as its verdict needs (docs/gate.md), where a look at the figures
	// takes verify's fixed default.
	var adaptive *gate.Adaptive
	switch {
	case fixed > 0 && o.SamplesAuto:
		return none, "", errors.New("--samples auto samples adaptively on this machine only; on Lambda give a count")
	case fixed > 0 && g.flags.Changed("max-samples"):
		return none, "", errors.New("--max-samples caps --samples auto, which samples on this machine only; on Lambda give --samples N")
	case fixed > 0 && !g.flags.Changed("samples"):
		o.Samples = fixed
	case o.SamplesAuto || !g.flags.Changed("samples"):
		a := gate.Adaptive{MaxSamples: g.maxSamples}
		if err := a.Validate(); err != nil {
			return none, "", fmt.Errorf("--max-samples %d: %w", g.maxSamples, err)
		}
		adaptive = &a
		// The library takes the counts from Adaptive; this one only
		// passes the checks the measurement options share with verify.
		o.SamplesAuto, o.Samples = false, g.maxSamples
	case g.flags.Changed("max-samples"):
		return none, "", fmt.Errorf("--max-samples caps --samples auto; with --samples %d it does nothing: give one of them", o.Samples)
	}
	if adaptive == nil && o.Samples < gate.MinSamples {
		return none, "", fmt.Errorf("--samples %d: the gate needs at least %d per side", o.Samples, gate.MinSamples)
	}
	mo, err := o.MeasureOptions()
	if err != nil {
		return none, "", err
	}
	return gate.Options{Target: o.Target, Measure: mo, Prepare: o.PrepareOptions(), Thresholds: th, Metric: m, Adaptive: adaptive, Strict: g.strict}, f, nil
}

func (g *gateExt) Run(ctx context.Context, o *Options) error {
	opts, format, err := g.options(o, 0)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	// Ctrl-C or a CI runner's SIGTERM cancels the measurement, so the
	// temporary worktree and builds are removed before fnopt exits.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if g.against != "" {
		return g.runAgainst(ctx, o, opts, format)
	}
	return g.runBaseline(ctx, o, opts, format)
}

// runAgainst builds and measures REV and the working tree, interleaved.
func (g *gateExt) runAgainst(ctx context.Context, o *Options, opts gate.Options, format gate.Format) error {
	if st, err := os.Stat(o.Target); err != nil || !st.IsDir() {
		return cmdutil.UsageError(fmt.Errorf("--against needs a project folder as TARGET, not %s", o.Target))
	}
	p := newProgress(o.IO, "building "+g.against+" and the working tree")
	opts.Measure.Progress = p.samples
	res, err := gate.RunAgainst(ctx, g.against, opts)
	p.stop()
	var fe *gate.FunctionFailedError
	switch {
	case errors.As(err, &fe) && !fe.Base:
		// The change broke the function: that fails the gate.
		printFailure(o, fe.Failure)
		return cmdutil.FailError(err)
	case err != nil:
		if errors.As(err, &fe) {
			printFailure(o, fe.Failure)
		}
		return cmdutil.UsageError(againstError(err))
	}
	return g.report(o, res, opts.Metric, format)
}

// runBaseline measures the target once, then compares it with --baseline
// and/or saves it as --save-baseline.
func (g *gateExt) runBaseline(ctx context.Context, o *Options, opts gate.Options, format gate.Format) error {
	p := newProgress(o.IO, "preparing "+o.Target)
	opts.Measure.Progress = p.samples
	br, err := gate.RunBaseline(ctx, gate.BaselineOptions{Options: opts, Compare: g.baseline, Save: g.saveBaseline})
	p.stop()
	if br != nil && br.Saved != nil {
		fmt.Fprintf(o.IO.ErrOut, "saved baseline %s (%d samples)\n", g.saveBaseline, len(br.Saved.Samples))
	}
	if err != nil {
		return cmdutil.UsageError(baselineError(prepareError(err)))
	}
	if f := br.Run.Failure; f != nil {
		printFailure(o, f)
		return cmdutil.FailError(f)
	}
	if br.Result == nil {
		// Only saving: show the measurement and its budgets as verify
		// does, with verify's exit status.
		rep := NewReport(br.Run, opts.Measure, verify.ThisMachine())
		rep.addBudgets(br.Budgets)
		if err := writeReport(o, rep); err != nil {
			return cmdutil.UsageError(err)
		}
		if len(br.Budgets.Exceeded()) > 0 {
			return cmdutil.SilentExit(cmdutil.ExitFail)
		}
		return nil
	}
	return g.report(o, br.Result, opts.Metric, format)
}

// report prints the verdict in format, adds it to GitHub's job summary
// and draws --plot; the exit status is the verdict's.
func (g *gateExt) report(o *Options, res *gate.Result, metric verify.Metric, format gate.Format) error {
	if err := gate.Write(o.IO.Out, res, format); err != nil {
		return cmdutil.UsageError(err)
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := gate.AppendMarkdown(path, res); err != nil {
			return cmdutil.UsageError(err)
		}
	}
	if g.plot != "" {
		if err := gate.Plot(g.plot, res, metric); err != nil {
			return cmdutil.UsageError(err)
		}
	}
	// 1 on a failure; 2 when the run could not tell and --strict asks
	// for that to stop the build.
	if code := res.ExitCode(); code != cmdutil.ExitOK {
		return cmdutil.SilentExit(code)
	}
	return nil
}

// printFailure shows how the function failed, with its output's tail.
func printFailure(o *Options, f *verify.Failure) {
	if f == nil {
		return
	}
	fmt.Fprintf(o.IO.ErrOut, "function failed: %v\n", f)
	if out := strings.TrimSpace(f.Output); out != "" {
		fmt.Fprintf(o.IO.ErrOut, "--- function output (tail) ---\n%s\n---\n", out)
	}
}
