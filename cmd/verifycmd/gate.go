package verifycmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
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
}

func (g *gateExt) AddFlags(f *pflag.FlagSet) {
	g.flags = f
	if s := f.Lookup("samples"); s != nil {
		s.Usage += fmt.Sprintf(" (per side; %d by default with --against, --baseline or --save-baseline)", gate.DefaultSamples)
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
}

func (g *gateExt) Active() bool {
	return g.saveBaseline != "" || g.baseline != "" || g.against != ""
}

// settings is what the gate decides with, once the flags are checked.
type gateSettings struct {
	measure    verify.Options
	thresholds gate.Thresholds
	metric     verify.Metric
	format     gate.Format
}

func (g *gateExt) check(o *Options) (*gateSettings, error) {
	if g.against != "" && g.baseline != "" {
		return nil, errors.New("--against and --baseline are two ways to compare: use one")
	}
	if g.against != "" && g.saveBaseline != "" {
		return nil, errors.New("--save-baseline saves one measurement; it does not combine with --against")
	}
	if o.Serve {
		return nil, errors.New("--serve does not combine with the gate flags")
	}
	if g.plot != "" && g.baseline == "" && g.against == "" {
		return nil, errors.New("--plot draws a comparison: use it with --baseline or --against")
	}
	if ext := strings.ToLower(filepath.Ext(g.plot)); g.plot != "" && ext != ".svg" && ext != ".png" {
		return nil, fmt.Errorf("--plot %s: the file name must end in .svg or .png", g.plot)
	}
	format := g.format
	if o.JSON && !g.flags.Changed("format") {
		format = "json" // --json means JSON, here too
	}
	f, err := gate.ParseFormat(format)
	if err != nil {
		return nil, fmt.Errorf("--format: %w", err)
	}
	m, err := gate.ParseGateMetric(g.metric)
	if err != nil {
		return nil, fmt.Errorf("--gate-metric: %w", err)
	}
	if m == verify.MetricWarmInvoke && o.Warm == 0 {
		return nil, errors.New("--gate-metric warm-invoke needs warm invocations: add --warm N")
	}
	th := gate.Thresholds{Alpha: g.alpha, MaxRegressionPct: g.maxRegression, MinDeltaMs: g.minDelta, MaxSizeGrowthPct: g.maxSizeGrowth}
	if err := th.Validate(); err != nil {
		return nil, err
	}
	// The gate needs more samples than a look at the figures does
	// (docs/gate.md explains 60).
	if !g.flags.Changed("samples") {
		o.Samples = gate.DefaultSamples
	}
	if o.Samples < gate.MinSamples {
		return nil, fmt.Errorf("--samples %d: the gate needs at least %d per side", o.Samples, gate.MinSamples)
	}
	mo, err := o.MeasureOptions()
	if err != nil {
		return nil, err
	}
	return &gateSettings{measure: mo, thresholds: th, metric: m, format: f}, nil
}

func (g *gateExt) Run(ctx context.Context, o *Options) error {
	s, err := g.check(o)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	// Ctrl-C or a CI runner's SIGTERM cancels the measurement, so the
	// temporary worktree and builds are removed before fnopt exits.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if g.against != "" {
		return g.runAgainst(ctx, o, s)
	}
	return g.runBaseline(ctx, o, s)
}

// runAgainst builds and measures REV and the working tree, interleaved.
func (g *gateExt) runAgainst(ctx context.Context, o *Options, s *gateSettings) error {
	if st, err := os.Stat(o.Target); err != nil || !st.IsDir() {
		return cmdutil.UsageError(fmt.Errorf("--against needs a project folder as TARGET, not %s", o.Target))
	}
	cfg, err := config.Load(o.Target)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	p := newProgress(o.IO, "building "+g.against+" and the working tree")
	mo := s.measure
	mo.Progress = p.samples
	m, err := gate.Against(ctx, gate.AgainstOptions{Dir: o.Target, Rev: g.against, Measure: mo, Prepare: o.PrepareOptions()})
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
		return cmdutil.UsageError(err)
	}
	in := s.input(m.Before, m.After, cfg)
	return g.decide(o, s, in, m.Notes)
}

// runBaseline measures the target once, then compares it with --baseline
// and/or saves it as --save-baseline.
func (g *gateExt) runBaseline(ctx context.Context, o *Options, s *gateSettings) error {
	var old *gate.Baseline
	if g.baseline != "" {
		b, err := gate.LoadBaseline(g.baseline)
		if err != nil {
			return cmdutil.UsageError(err)
		}
		old = b // read first: a bad file should not cost a measurement
	}
	cfg, deploy := projectConfig(o.Target)
	p := newProgress(o.IO, "preparing "+o.Target)
	t, err := verify.Prepare(ctx, o.Target, o.PrepareOptions())
	if err != nil {
		p.stop()
		return cmdutil.UsageError(err)
	}
	defer t.Close()
	mo := s.measure
	mo.Progress = p.samples
	runs, err := verify.Measure(ctx, []*verify.Target{t}, mo)
	p.stop()
	if err != nil {
		return cmdutil.UsageError(err)
	}
	run := runs[0]
	if run.Failure != nil {
		printFailure(o, run.Failure)
		return cmdutil.FailError(run.Failure)
	}
	if deploy == "" {
		deploy = t.Arch
	}
	now := gate.Side{Label: "this run (" + o.Target + ")", Samples: run.Samples, Sizes: gate.Sizes(t, deploy), Artifact: "zip"}
	measured := gate.Settings{Samples: mo.Samples, Warm: mo.Warm, MemoryMB: mo.Function.MemoryMB, ColdCache: mo.ColdCache}

	if g.saveBaseline != "" {
		b := gate.NewBaseline(run.Samples, time.Now())
		b.FnoptVersion = fnoptVersion()
		b.Target = o.Target
		b.Revision, b.Dirty = gitRevision(ctx, o.Target)
		b.Machine = verify.ThisMachine()
		b.Settings = measured
		b.Sizes, b.Artifact = now.Sizes, now.Artifact
		if err := gate.SaveBaseline(g.saveBaseline, b); err != nil {
			return cmdutil.UsageError(err)
		}
		fmt.Fprintf(o.IO.ErrOut, "saved baseline %s (%d samples)\n", g.saveBaseline, len(run.Samples))
	}
	if old == nil {
		// Only saving: show the measurement as verify does.
		rep := NewReport(run, mo, verify.ThisMachine())
		if err := writeReport(o, rep); err != nil {
			return cmdutil.UsageError(err)
		}
		return nil
	}
	label := fmt.Sprintf("baseline %s (%s", g.baseline, old.Created.Format("2006-01-02 15:04 UTC"))
	if old.Revision != "" {
		label += ", " + shortRev(old.Revision)
	}
	in := s.input(old.Side(label+")"), now, cfg)
	notes := append(run.Notes, old.Differences(verify.ThisMachine(), measured)...)
	return g.decide(o, s, in, notes)
}

// input assembles what the verdict is decided on.
func (s *gateSettings) input(before, after gate.Side, cfg *config.Config) gate.Input {
	in := gate.Input{Before: before, After: after, Thresholds: s.thresholds, Gated: []verify.Metric{s.metric}}
	if cfg != nil {
		in.Budgets = cfg.Budgets
		if cfg.Package != "zip" {
			// artifact_bytes of an image is its compressed layers,
			// which a project measurement does not produce.
			in.After.Artifact = ""
		}
	}
	return in
}

// decide evaluates, reports and returns the exit status.
func (g *gateExt) decide(o *Options, s *gateSettings, in gate.Input, notes []string) error {
	res, err := gate.Evaluate(in)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	res.Warnings = append(res.Warnings, notes...)
	if err := gate.Write(o.IO.Out, res, s.format); err != nil {
		return cmdutil.UsageError(err)
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := appendMarkdown(path, res); err != nil {
			return cmdutil.UsageError(err)
		}
	}
	if g.plot != "" {
		if err := gate.Plot(g.plot, res, s.metric); err != nil {
			return cmdutil.UsageError(err)
		}
	}
	if !res.Pass() {
		return cmdutil.SilentExit(cmdutil.ExitFail)
	}
	return nil
}

// appendMarkdown adds the markdown report to GitHub's job summary file,
// which other steps write to too: append, never replace.
func appendMarkdown(path string, res *gate.Result) error {
	var b bytes.Buffer
	if err := gate.WriteMarkdown(&b, res); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("writing the job summary: %w", err)
	}
	if _, err := f.Write(append(b.Bytes(), '\n')); err != nil {
		f.Close()
		return fmt.Errorf("writing the job summary: %w", err)
	}
	return f.Close()
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

// fnoptVersion is the module version fnopt was built as ("(devel)" for a
// local build).
func fnoptVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

// gitRevision is the commit checked out where target is, and whether the
// working tree has changes; empty outside a git repository.
func gitRevision(ctx context.Context, target string) (string, bool) {
	dir := target
	if st, err := os.Stat(target); err == nil && !st.IsDir() {
		dir = filepath.Dir(target)
	}
	head, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	status, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(head)), err == nil && len(bytes.TrimSpace(status)) > 0
}

func shortRev(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
