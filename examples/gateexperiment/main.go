// Command experiment measures fnopt's CI gate on this machine: how often
// it fails a change that does nothing (false alarms), how often it catches
// a change that adds a known init cost (detections), how many samples and
// how long one gate run takes, with a fixed number of samples and with
// adaptive sampling side by side.
//
// It builds fnopt, makes git repositories holding the same small Go
// function (function/), and in each changes the working tree: "identical"
// adds a README (same binary); each regression adds CPU work before the
// first /next worth a multiple of the gate's threshold (by default 1.2 and
// 1.5 times 10%) of the function's measured init. Then it runs `fnopt
// verify --against HEAD` on each, -trials times, once with --samples N and
// once with the gate's default (--samples auto), exactly as CI would, in
// an order that rotates so that neither kind nor mode always runs first.
//
//	go run ./examples/gateexperiment [-trials 20] [-samples 100] [-factors 1.2,1.5]
//
// scripts/gate-experiment.sh runs it. Exit status 0 when adaptive sampling
// meets the targets (false alarms ≤ 1 in 20, detections of each
// regression ≥ 19 in 20, median time per gate run ≤ 2 times the fixed
// runs'), 1 otherwise.
package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify/gate"
)

//go:embed function
var functionFS embed.FS

type options struct {
	trials int
	// samples is the fixed mode's samples per side; maxSamples the
	// adaptive mode's cap (0: the gate's default).
	samples    int
	maxSamples int
	// threshold is the gate's --max-regression; factors are the
	// regressions, as multiples of it.
	threshold  float64
	factors    []float64
	baseWorkMs float64
	verbose    bool
	out        string
}

// The two ways a gate run samples.
const (
	modeFixed = "fixed"
	modeAuto  = "auto"
)

func main() {
	var o options
	var factors string
	var regression float64
	flag.IntVar(&o.trials, "trials", 20, "gate runs per kind of change and sampling mode")
	flag.IntVar(&o.samples, "samples", gate.DefaultSamples, "cold starts per side of the fixed-sample runs (fnopt verify --samples N)")
	flag.IntVar(&o.maxSamples, "max-samples", 0, "cap of the adaptive runs (fnopt verify --max-samples; 0: the gate's default)")
	flag.Float64Var(&o.threshold, "threshold", gate.DefaultMaxRegressionPct, "the gate's --max-regression, percent")
	flag.StringVar(&factors, "factors", "1.2,1.5", "the regressions to catch, as multiples of the threshold, comma-separated")
	flag.Float64Var(&regression, "regression", 0, "one regression to catch, percent of init p50 (instead of -factors)")
	flag.Float64Var(&o.baseWorkMs, "base-work", 30, "CPU work (ms) the base function does in init, standing for real initialisation (most of init, so that an injected regression stays the same share of it as the load changes)")
	flag.BoolVar(&o.verbose, "v", false, "print every trial")
	flag.StringVar(&o.out, "out", "", "also write the summary (markdown) to this file")
	flag.Parse()
	var err error
	if o.factors, err = parseFactors(factors, regression, o.threshold); err != nil {
		fmt.Fprintln(os.Stderr, "gate-experiment:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx, o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gate-experiment:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// parseFactors reads -factors, or -regression when given (a percentage,
// turned into a multiple of the threshold).
func parseFactors(s string, regressionPct, threshold float64) ([]float64, error) {
	if regressionPct > 0 {
		return []float64{regressionPct / threshold}, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0) {
			return nil, fmt.Errorf("-factors %q: give positive numbers, such as 1.2,1.5", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// trial is one gate run.
type trial struct {
	kind    string // "identical" or a regression's name, e.g. "+12%"
	mode    string // modeFixed or modeAuto
	exit    int
	verdict gate.Verdict
	seconds float64
	// The gated metric: estimated shift, p-value, minimum detectable
	// effect (80% power) and medians.
	shiftPct, shiftMs, p float64
	mde80Pct             float64
	beforeP50, afterP50  float64
	// samples is per side; stop is why sampling stopped.
	samples int
	stop    string
}

// kind is a change measured by the trials.
type kind struct {
	name string
	dir  string // the function's folder
	// pct is the regression aimed at, percent of init p50 (0 for none);
	// measured is what the last calibration run found, fitted what the
	// pooled calibration says the work adds.
	pct, measured, fitted float64
	// minRounds and maxRounds are the least and most work the trials
	// added (see aim).
	minRounds, maxRounds int
}

// aim keeps a regression at its share of init while the machine's load
// changes: on this machine the same CPU work added +12.5% to init at load
// 10 and about +9% an hour later at load 4, so a regression calibrated
// once drifts below its aim. After every round of trials the work is
// re-aimed from the last few estimates of the share it added (its
// calibration checks, then its fixed-sample trials, which are unbiased),
// by a line through the origin of the estimated percent on the rounds.
type aim struct {
	pct     float64 // the share aimed at, percent of init p50
	initial int     // the rounds the calibration set
	rounds  []int
	pcts    []float64
}

// aimWindow is how many of the latest estimates re-aim the work: enough
// to average out a few points of noise each, few enough to follow the
// load.
const aimWindow = 5

func (a *aim) observe(rounds int, pct float64) {
	if math.IsNaN(pct) {
		return
	}
	a.rounds = append(a.rounds, rounds)
	a.pcts = append(a.pcts, pct)
}

// next is the work that adds pct percent by the latest estimates, within
// half and twice the calibrated work (a few noisy estimates must not send
// it far off).
func (a *aim) next() int {
	var sxy, sxx float64
	for i := max(0, len(a.rounds)-aimWindow); i < len(a.rounds); i++ {
		x := float64(a.rounds[i])
		sxy += x * a.pcts[i]
		sxx += x * x
	}
	if !(sxy > 0) {
		return a.initial
	}
	r := int(a.pct / (sxy / sxx))
	return min(max(r, a.initial/2), 2*a.initial)
}

// calibrationSamples are the samples per side of the runs that calibrate
// and check the injected regressions: many, so their estimate is precise.
const calibrationSamples = 200

// calibration pools every calibration run into what a round of work costs
// in init, as the gate measures it: a least-squares line through the
// origin of the measured shift (ms) on the rounds added. One run on a
// loaded machine is off by a few points; the pooled fit is steadier than
// any one of them.
type calibration struct {
	sxy, sxx float64
	// p50s are the init medians of the base function (with its work).
	p50s []float64
}

func (c *calibration) add(rounds int, t trial) {
	c.sxy += float64(rounds) * t.shiftMs
	c.sxx += float64(rounds) * float64(rounds)
}

func (c *calibration) msPerRound() float64 { return c.sxy / c.sxx }

// rounds is the work that adds pct percent to the base function's init.
func (c *calibration) rounds(pct float64) int {
	return int(pct / 100 * median(c.p50s) / c.msPerRound())
}

func run(ctx context.Context, o options, w io.Writer) (bool, error) {
	root, err := repoRoot()
	if err != nil {
		return false, err
	}
	work, err := os.MkdirTemp("", "fnopt-gate-experiment-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(work)

	fnopt := filepath.Join(work, "fnopt")
	fmt.Fprintln(w, "building fnopt ...")
	if err := command(ctx, root, nil, "go", "build", "-o", fnopt, "./cmd/fnopt"); err != nil {
		return false, err
	}

	// Calibration, measured the way the gate measures: a repository whose
	// committed function does no work and whose working tree does a first
	// guess of rounds. One long interleaved gate run gives what the rounds
	// cost (the shift) and the init without them.
	guess := int(o.baseWorkMs * calibrate())
	zero := filepath.Join(work, "zero")
	if err := makeRepo(ctx, zero, 0); err != nil {
		return false, err
	}
	if err := writeWork(filepath.Join(zero, "fn"), guess); err != nil {
		return false, err
	}
	fmt.Fprintln(w, "calibrating the function's work ...")
	cal, err := gateRun(ctx, fnopt, filepath.Join(zero, "fn"), []string{"--samples", strconv.Itoa(calibrationSamples)})
	if err != nil {
		return false, err
	}
	if !(cal.shiftMs > 0) {
		return false, fmt.Errorf("calibration: %d rounds of work did not lengthen init (shift %.3f ms)", guess, cal.shiftMs)
	}
	perMs := float64(guess) / cal.shiftMs
	base := int(o.baseWorkMs * perMs)
	fit := &calibration{p50s: []float64{cal.beforeP50 + o.baseWorkMs}}
	fit.add(guess, cal)

	identical := kind{name: "identical", dir: filepath.Join(work, "identical", "fn")}
	if err := makeRepo(ctx, filepath.Dir(identical.dir), base); err != nil {
		return false, err
	}
	// identical: a change that does not touch the code.
	if err := os.WriteFile(filepath.Join(identical.dir, "README.md"), []byte("# gatefn\n\nDocs only.\n"), 0o644); err != nil {
		return false, err
	}
	kinds := []*kind{&identical}
	aims := map[string]*aim{}
	extra := map[string]int{} // the work each regression adds now
	for i, f := range o.factors {
		k := &kind{name: fmt.Sprintf("+%g%%", f*o.threshold), pct: f * o.threshold, dir: filepath.Join(work, fmt.Sprintf("regressed-%d", i), "fn")}
		if err := makeRepo(ctx, filepath.Dir(k.dir), base); err != nil {
			return false, err
		}
		a := &aim{pct: k.pct}
		check, rounds, err := injectRegression(ctx, fnopt, *k, base, fit, a)
		if err != nil {
			return false, err
		}
		a.initial, extra[k.name], aims[k.name] = rounds, rounds, a
		k.minRounds, k.maxRounds = rounds, rounds
		k.measured = check.shiftPct
		k.fitted = 100 * float64(rounds) * fit.msPerRound() / median(fit.p50s)
		fmt.Fprintf(w, "regression %s: %d more rounds, %+.1f%% by the pooled calibration; its last check, %d+%d interleaved samples: %+.2f ms, %+.1f%%\n",
			k.name, rounds, k.fitted, calibrationSamples, calibrationSamples, check.shiftMs, check.shiftPct)
		kinds = append(kinds, k)
	}
	initP50 := median(fit.p50s)
	fmt.Fprintf(w, "function init p50 %.2f ms, of which %d rounds of work (%.0f rounds/ms); %.2f ms without them\n", initP50, base, 1/fit.msPerRound(), cal.beforeP50)

	// Every trial runs each kind in each mode once; the order rotates from
	// trial to trial so that load drift favours none of them.
	type combo struct {
		k    *kind
		mode string
	}
	var order []combo
	for _, k := range kinds {
		for _, m := range []string{modeFixed, modeAuto} {
			order = append(order, combo{k, m})
		}
	}
	load0 := loadAverage()
	var trials []trial
	start := time.Now()
	for i := range o.trials {
		for j := range order {
			r := order[(i+j)%len(order)]
			args := []string{"--samples", strconv.Itoa(o.samples)}
			if r.mode == modeAuto && o.maxSamples > 0 {
				args = []string{"--max-samples", strconv.Itoa(o.maxSamples)}
			} else if r.mode == modeAuto {
				args = nil // the gate's default: --samples auto
			}
			tr, err := gateRun(ctx, fnopt, r.k.dir, args)
			if err != nil {
				return false, fmt.Errorf("trial %d (%s, %s): %w", i+1, r.k.name, r.mode, err)
			}
			tr.kind, tr.mode = r.k.name, r.mode
			trials = append(trials, tr)
			if o.verbose {
				fmt.Fprintf(w, "trial %2d %-9s %-5s exit %d %-14s shift %+6.1f%% (%+.2f ms)  p=%.3g  MDE80 %.1f%%  %3d samples  %.1f s\n",
					i+1, tr.kind, tr.mode, tr.exit, tr.verdict, tr.shiftPct, tr.shiftMs, tr.p, tr.mde80Pct, tr.samples, tr.seconds)
			}
			if a := aims[r.k.name]; a != nil && r.mode == modeFixed {
				a.observe(extra[r.k.name], tr.shiftPct)
			}
		}
		// Re-aim each regression for the next round.
		for _, k := range kinds[1:] {
			next := aims[k.name].next()
			if next == extra[k.name] {
				continue
			}
			if err := writeWork(k.dir, base+next); err != nil {
				return false, err
			}
			extra[k.name] = next
			k.minRounds, k.maxRounds = min(k.minRounds, next), max(k.maxRounds, next)
		}
	}
	elapsed := time.Since(start)

	summary, ok := summarize(o, kinds, trials, initP50, cal.beforeP50, load0, elapsed)
	fmt.Fprint(w, "\n"+summary)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(summary), 0o644); err != nil {
			return ok, err
		}
	}
	return ok, nil
}

// injectRegression writes k's function with the extra work the pooled
// calibration says adds k.pct percent to init, checks it with a long
// interleaved run, adds the run to the calibration, and corrects the work
// (three times at most) while the check misses k.pct by more than a
// point. It returns the last check and the extra rounds.
func injectRegression(ctx context.Context, fnopt string, k kind, base int, fit *calibration, a *aim) (trial, int, error) {
	extra := fit.rounds(k.pct)
	var check trial
	for try := range 4 {
		if err := writeWork(k.dir, base+extra); err != nil {
			return check, extra, err
		}
		var err error
		if check, err = gateRun(ctx, fnopt, k.dir, []string{"--samples", strconv.Itoa(calibrationSamples)}); err != nil {
			return check, extra, err
		}
		fit.add(extra, check)
		fit.p50s = append(fit.p50s, check.beforeP50)
		a.observe(extra, check.shiftPct)
		if try == 3 || math.Abs(check.shiftPct-k.pct) <= 1 {
			break
		}
		extra = fit.rounds(k.pct)
	}
	return check, extra, nil
}

// summarize renders the figures as markdown and says whether adaptive
// sampling meets the targets.
func summarize(o options, kinds []*kind, trials []trial, initP50, bareP50 float64, load0 string, elapsed time.Duration) (string, bool) {
	pick := func(kind, mode string) []trial {
		var out []trial
		for _, t := range trials {
			if (kind == "" || t.kind == kind) && t.mode == mode {
				out = append(out, t)
			}
		}
		return out
	}
	count := func(ts []trial, f func(trial) bool) int {
		n := 0
		for _, t := range ts {
			if f(t) {
				n++
			}
		}
		return n
	}
	values := func(ts []trial, f func(trial) float64) []float64 {
		var out []float64
		for _, t := range ts {
			if v := f(t); !math.IsNaN(v) {
				out = append(out, v)
			}
		}
		return out
	}
	modeName := map[string]string{modeFixed: fmt.Sprintf("fixed, %d a side", o.samples), modeAuto: "adaptive (auto)"}
	if o.maxSamples > 0 {
		modeName[modeAuto] = fmt.Sprintf("adaptive, at most %d", o.maxSamples)
	} else {
		modeName[modeAuto] = fmt.Sprintf("adaptive, at most %d", gate.DefaultMaxSamples)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "## fnopt gate experiment\n\n")
	fmt.Fprintf(&b, "- machine: %s, %d CPUs, load average %s at start, %s at end\n", cpuModel(), runtime.NumCPU(), load0, loadAverage())
	fmt.Fprintf(&b, "- function: Go, stdlib Runtime API client; init p50 %.2f ms, of which about %g ms CPU work standing for real initialisation (%.2f ms without it)\n",
		initP50, o.baseWorkMs, bareP50)
	for _, k := range kinds[1:] {
		fmt.Fprintf(&b, "- regression %s: more init work, aimed at %s of init p50 (%g times the threshold): %+.1f%% by the calibration pooled over all its runs; the last check before the trials (%d+%d interleaved samples) measured %+.1f%%; re-aimed after every round from its last %d estimates, the work ranged over %d to %d rounds\n",
			k.name, k.name, k.pct/o.threshold, k.fitted, calibrationSamples, calibrationSamples, k.measured, aimWindow, k.minRounds, k.maxRounds)
	}
	fmt.Fprintf(&b, "- gate: `fnopt verify --against HEAD --max-regression %g` (alpha %g, min delta %g ms), %d runs per kind and mode, %s in all\n\n",
		o.threshold, gate.DefaultAlpha, gate.DefaultMinDeltaMs, o.trials, elapsed.Round(time.Second))

	b.WriteString("| change | sampling | gate failed (exit 1) | could not tell | exit 2 | estimated shift, median [min, max] | MDE 80%, median | samples a side, median [min, max] | seconds per run, median [max] |\n")
	b.WriteString("|:--|:--|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, k := range kinds {
		for _, mode := range []string{modeFixed, modeAuto} {
			ts := pick(k.name, mode)
			failed := count(ts, func(t trial) bool { return t.exit == 1 })
			what := "false alarms"
			if k.pct > 0 {
				what = "detections"
			}
			secs := values(ts, func(t trial) float64 { return t.seconds })
			fmt.Fprintf(&b, "| %s | %s | **%d / %d** %s | %d | %d | %s | %s | %s | %s |\n",
				k.name, modeName[mode], failed, len(ts), what,
				count(ts, func(t trial) bool { return t.verdict == gate.VerdictCouldNotTell }),
				count(ts, func(t trial) bool { return t.exit == 2 }),
				spreadPct(values(ts, func(t trial) float64 { return t.shiftPct })),
				pctText(median(values(ts, func(t trial) float64 { return t.mde80Pct }))),
				spreadInt(values(ts, func(t trial) float64 { return float64(t.samples) })),
				secondsText(secs))
		}
	}

	fixedSecs := values(pick("", modeFixed), func(t trial) float64 { return t.seconds })
	autoSecs := values(pick("", modeAuto), func(t trial) float64 { return t.seconds })
	ratio := median(autoSecs) / median(fixedSecs)
	fmt.Fprintf(&b, "\nMedian time per gate run (2 builds and the interleaved cold starts), all changes: fixed %.1f s, adaptive %.1f s: %.2f times.\n",
		median(fixedSecs), median(autoSecs), ratio)

	// The targets are adaptive sampling's: at most 1 false alarm in 20,
	// at least 19 detections in 20 of every regression, at most twice the
	// fixed runs' median time, and no run that could not measure.
	auto := pick("", modeAuto)
	ok := count(auto, func(t trial) bool { return t.exit == 2 }) == 0 && ratio <= 2
	var misses []string
	if fa := count(pick(kinds[0].name, modeAuto), func(t trial) bool { return t.exit == 1 }); fa*20 > o.trials {
		ok = false
		misses = append(misses, fmt.Sprintf("%d false alarms", fa))
	}
	for _, k := range kinds[1:] {
		if d := count(pick(k.name, modeAuto), func(t trial) bool { return t.exit == 1 }); d*20 < 19*o.trials {
			ok = false
			misses = append(misses, fmt.Sprintf("%s caught %d times", k.name, d))
		}
	}
	if ratio > 2 {
		misses = append(misses, fmt.Sprintf("median time %.2f times the fixed runs'", ratio))
	}
	verdict := "targets met"
	if !ok {
		verdict = "targets NOT met (" + strings.Join(misses, ", ") + ")"
	}
	fmt.Fprintf(&b, "\nResult for adaptive sampling (false alarms ≤ 1/20, detections ≥ 19/20, median time ≤ 2× fixed, no exit 2): %s.\n", verdict)
	return b.String(), ok
}

func spreadPct(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("%+.1f%% [%+.1f%%, %+.1f%%]", median(v), slices.Min(v), slices.Max(v))
}

func spreadInt(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f [%.0f, %.0f]", median(v), slices.Min(v), slices.Max(v))
}

func pctText(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", v)
}

func secondsText(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f [%.1f]", median(v), slices.Max(v))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return gate.Quantile(v, 0.5)
}

// gateRun runs the gate once, as CI does, with args added, and reads its
// JSON report.
func gateRun(ctx context.Context, fnopt, dir string, args []string) (trial, error) {
	cmd := exec.CommandContext(ctx, fnopt, append([]string{"verify", "--against", "HEAD", "--format", "json"}, args...)...)
	// On Ctrl-C, ask fnopt to stop (it removes its worktree), not SIGKILL.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t := trial{seconds: time.Since(start).Seconds()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		t.exit = ee.ExitCode()
	default:
		return t, err
	}
	if ctx.Err() != nil {
		return t, ctx.Err()
	}
	nan := math.NaN()
	t.shiftPct, t.shiftMs, t.p, t.mde80Pct = nan, nan, nan, nan
	var doc gate.Document
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		if t.exit == 2 {
			fmt.Fprintf(os.Stderr, "gate could not measure: %s\n", strings.TrimSpace(stderr.String()))
			return t, nil
		}
		return t, fmt.Errorf("reading the gate's report: %v (stderr: %s)", err, stderr.String())
	}
	t.verdict, t.samples, t.stop = doc.Verdict, doc.After.Samples, string(doc.Sampling.Stop)
	for _, m := range doc.Metrics {
		if m.Gated {
			t.shiftPct, t.shiftMs, t.p = float64(m.ShiftPct.Center), float64(m.Shift.Center), float64(m.P)
			t.mde80Pct = float64(m.MDE80Pct)
			t.beforeP50, t.afterP50 = float64(m.Before.Center), float64(m.After.Center)
		}
	}
	return t, nil
}

// cleanEnv is the environment for fnopt: no step summary to write to.
func cleanEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "GITHUB_STEP_SUMMARY=") {
			env = append(env, e)
		}
	}
	return env
}

// makeRepo creates a repository with the function in fn/, committed.
func makeRepo(ctx context.Context, repo string, initWork int) error {
	fn := filepath.Join(repo, "fn")
	if err := os.MkdirAll(fn, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"main.go", "go.mod", "fnopt.yaml"} {
		data, err := functionFS.ReadFile("function/" + name + ".txt")
		if err != nil {
			return err
		}
		if err := render(filepath.Join(fn, name), string(data), initWork); err != nil {
			return err
		}
	}
	if err := writeWork(fn, initWork); err != nil {
		return err
	}
	git := func(args ...string) error {
		return command(ctx, repo, nil, "git", append([]string{"-c", "user.name=gate experiment", "-c", "user.email=gate@example.com"}, args...)...)
	}
	if err := git("init", "-q"); err != nil {
		return err
	}
	if err := git("add", "-A"); err != nil {
		return err
	}
	return git("commit", "-q", "-m", "function")
}

func writeWork(fn string, initWork int) error {
	data, err := functionFS.ReadFile("function/work.go.txt")
	if err != nil {
		return err
	}
	return render(filepath.Join(fn, "work.go"), string(data), initWork)
}

func render(path, text string, initWork int) error {
	t, err := template.New(filepath.Base(path)).Parse(text)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, map[string]any{"InitWork": initWork, "Arch": string(settings.HostArch())}); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// calibrate estimates how many rounds of the function's work fit in a
// millisecond, timing the same loop in this process: a first guess only,
// which the measured calibration replaces.
func calibrate() float64 {
	const rounds = 4_000_000
	var rates []float64
	for range 15 {
		start := time.Now()
		x := work(rounds)
		rates = append(rates, rounds/(float64(time.Since(start))/float64(time.Millisecond)))
		runtime.KeepAlive(x) // the result is used, so the loop runs
	}
	return median(rates)
}

// work is the loop of experiment/function/main.go.txt, kept identical.
func work(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

func command(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(data, []byte("module github.com/fnopt/fnopt\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the experiment inside the fnopt repository")
		}
		dir = parent
	}
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}
