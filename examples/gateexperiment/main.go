// Command experiment measures fnopt's CI gate on this machine: how often
// it fails a change that does nothing (false alarms) and how often it
// catches a change that adds a known init cost (detections), and how long
// one gate run takes.
//
// It builds fnopt, makes two git repositories holding the same small Go
// function (experiment/function), and in each changes the working tree:
// "identical" adds a README (same binary), "regressed" adds CPU work
// before the first /next worth -regression percent of the function's
// measured init. Then it runs `fnopt verify --against HEAD` on each,
// alternately, -trials times, exactly as CI would.
//
//	go run ./examples/gateexperiment [-trials 20] [-samples 40] [-regression 15]
//
// scripts/gate-experiment.sh runs it. Exit status 0 when the targets
// (false alarms ≤ 1 in 20, detections ≥ 19 in 20) are met, 1 otherwise.
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
	trials        int
	samples       int
	regressionPct float64
	baseWorkMs    float64
	verbose       bool
	out           string
}

func main() {
	var o options
	flag.IntVar(&o.trials, "trials", 20, "gate runs per kind (identical, regressed)")
	flag.IntVar(&o.samples, "samples", gate.DefaultSamples, "cold starts per side in each gate run (fnopt verify --samples)")
	flag.Float64Var(&o.regressionPct, "regression", 15, "added init cost, percent of the function's measured init p50")
	flag.Float64Var(&o.baseWorkMs, "base-work", 8, "CPU work (ms) the base function does in init, standing for real initialisation")
	flag.BoolVar(&o.verbose, "v", false, "print every trial")
	flag.StringVar(&o.out, "out", "", "also write the summary (markdown) to this file")
	flag.Parse()

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

// trial is one gate run.
type trial struct {
	kind     string // "identical" or "regressed"
	exit     int
	seconds  float64
	shiftPct float64
	shiftMs  float64
	p        float64
	// beforeP50 and afterP50 are the gated metric's medians.
	beforeP50, afterP50 float64
}

// calibrationSamples are the samples per side of the runs that calibrate
// and check the injected regression: many, so their estimate is precise.
const calibrationSamples = 150

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
	cal, err := gateRun(ctx, fnopt, filepath.Join(zero, "fn"), calibrationSamples)
	if err != nil {
		return false, err
	}
	if !(cal.shiftMs > 0) {
		return false, fmt.Errorf("calibration: %d rounds of work did not lengthen init (shift %.3f ms)", guess, cal.shiftMs)
	}
	perMs := float64(guess) / cal.shiftMs
	base := int(o.baseWorkMs * perMs)

	identical := filepath.Join(work, "identical")
	regressed := filepath.Join(work, "regressed")
	for _, repo := range []string{identical, regressed} {
		if err := makeRepo(ctx, repo, base); err != nil {
			return false, err
		}
	}
	// identical: a change that does not touch the code.
	if err := os.WriteFile(filepath.Join(identical, "fn", "README.md"), []byte("# gatefn\n\nDocs only.\n"), 0o644); err != nil {
		return false, err
	}
	// regressed: more work, aimed at the target share of the init, then
	// checked with a long interleaved run and corrected (three times at
	// most) while it misses the target by more than half a point.
	extra := int((cal.beforeP50 + o.baseWorkMs) * o.regressionPct / 100 * perMs)
	var check trial
	for try := range 4 {
		if err := writeWork(filepath.Join(regressed, "fn"), base+extra); err != nil {
			return false, err
		}
		if check, err = gateRun(ctx, fnopt, filepath.Join(regressed, "fn"), calibrationSamples); err != nil {
			return false, err
		}
		if try == 3 || !(check.shiftPct > 0) || math.Abs(check.shiftPct-o.regressionPct) <= 0.5 {
			break
		}
		extra = int(float64(extra) * o.regressionPct / check.shiftPct)
	}
	fmt.Fprintf(w, "function init p50 %.2f ms, of which %d rounds of work (%.0f rounds/ms); %.2f ms without them\n", check.beforeP50, base, perMs, cal.beforeP50)
	fmt.Fprintf(w, "regression: %d more rounds; measured in %d+%d interleaved samples: %+.2f ms, %+.1f%%\n", extra, calibrationSamples, calibrationSamples, check.shiftMs, check.shiftPct)

	load0 := loadAverage()
	var trials []trial
	start := time.Now()
	for i := range o.trials {
		kinds := []string{"identical", "regressed"}
		if i%2 == 1 {
			slices.Reverse(kinds) // neither kind always runs first
		}
		for _, kind := range kinds {
			repo := map[string]string{"identical": identical, "regressed": regressed}[kind]
			tr, err := gateRun(ctx, fnopt, filepath.Join(repo, "fn"), o.samples)
			if err != nil {
				return false, fmt.Errorf("trial %d (%s): %w", i+1, kind, err)
			}
			tr.kind = kind
			trials = append(trials, tr)
			if o.verbose {
				fmt.Fprintf(w, "trial %2d %-9s exit %d  shift %+6.1f%% (%+.2f ms)  p=%.3g  %.1f s\n", i+1, kind, tr.exit, tr.shiftPct, tr.shiftMs, tr.p, tr.seconds)
			}
		}
	}
	elapsed := time.Since(start)

	summary, ok := summarize(o, trials, cal, check, load0, elapsed)
	fmt.Fprint(w, "\n"+summary)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(summary), 0o644); err != nil {
			return ok, err
		}
	}
	return ok, nil
}

// summarize renders the figures as markdown and says whether the targets
// are met.
func summarize(o options, trials []trial, cal, injected trial, load0 string, elapsed time.Duration) (string, bool) {
	count := func(kind string, exit int) int {
		n := 0
		for _, t := range trials {
			if t.kind == kind && t.exit == exit {
				n++
			}
		}
		return n
	}
	field := func(kind string, f func(trial) float64) []float64 {
		var out []float64
		for _, t := range trials {
			if t.kind == kind {
				out = append(out, f(t))
			}
		}
		return out
	}
	falseAlarms, detections := count("identical", 1), count("regressed", 1)
	errs := count("identical", 2) + count("regressed", 2)
	secs := field("identical", func(t trial) float64 { return t.seconds })
	secs = append(secs, field("regressed", func(t trial) float64 { return t.seconds })...)

	var b strings.Builder
	fmt.Fprintf(&b, "## fnopt gate experiment\n\n")
	fmt.Fprintf(&b, "- machine: %s, %d CPUs, load average %s at start, %s at end\n", cpuModel(), runtime.NumCPU(), load0, loadAverage())
	fmt.Fprintf(&b, "- function: Go, stdlib Runtime API client; init p50 %.2f ms, of which about %g ms CPU work standing for real initialisation (%.2f ms without it)\n",
		injected.beforeP50, o.baseWorkMs, cal.beforeP50)
	fmt.Fprintf(&b, "- regression: more init work, aimed at +%g%% of init p50; measured before the trials with %d+%d interleaved samples: %+.2f ms, %+.1f%%\n",
		o.regressionPct, calibrationSamples, calibrationSamples, injected.shiftMs, injected.shiftPct)
	fmt.Fprintf(&b, "- gate: `fnopt verify --against HEAD --samples %d` (defaults: alpha %g, max regression %g%%, min delta %g ms)\n\n",
		o.samples, gate.DefaultAlpha, float64(gate.DefaultMaxRegressionPct), gate.DefaultMinDeltaMs)
	fmt.Fprintf(&b, "| | identical builds | +%g%% init |\n|:--|--:|--:|\n", o.regressionPct)
	fmt.Fprintf(&b, "| gate failed (exit 1) | **%d / %d** (false alarms) | **%d / %d** (detections) |\n", falseAlarms, o.trials, detections, o.trials)
	fmt.Fprintf(&b, "| could not measure (exit 2) | %d | %d |\n", count("identical", 2), count("regressed", 2))
	for _, row := range []struct {
		name string
		f    func(trial) float64
	}{
		{"estimated shift, median [min, max]", func(t trial) float64 { return t.shiftPct }},
		{"p-value, median [min, max]", func(t trial) float64 { return t.p }},
	} {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", row.name, spreadText(field("identical", row.f), row.name[0] == 'e'), spreadText(field("regressed", row.f), row.name[0] == 'e'))
	}
	fmt.Fprintf(&b, "\nOne gate run (2 builds in a worktree and the working tree, %d interleaved cold starts): median %.1f s, max %.1f s. All %d runs: %s.\n",
		2*o.samples, median(secs), slices.Max(secs), len(trials), elapsed.Round(time.Second))
	ok := errs == 0 && falseAlarms*20 <= o.trials && detections*20 >= 19*o.trials
	verdict := "targets met (false alarms ≤ 1/20, detections ≥ 19/20)"
	if !ok {
		verdict = "targets NOT met (false alarms ≤ 1/20, detections ≥ 19/20, no errors)"
	}
	fmt.Fprintf(&b, "\nResult: %s.\n", verdict)
	return b.String(), ok
}

func spreadText(v []float64, pct bool) string {
	if len(v) == 0 {
		return "–"
	}
	if pct {
		return fmt.Sprintf("%+.1f%% [%+.1f%%, %+.1f%%]", median(v), slices.Min(v), slices.Max(v))
	}
	return fmt.Sprintf("%.3g [%.3g, %.3g]", median(v), slices.Min(v), slices.Max(v))
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return gate.Quantile(v, 0.5)
}

// gateRun runs the gate once, as CI does, and reads its JSON report.
func gateRun(ctx context.Context, fnopt, dir string, samples int) (trial, error) {
	cmd := exec.CommandContext(ctx, fnopt, "verify", "--against", "HEAD", "--samples", strconv.Itoa(samples), "--format", "json")
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
	if t.exit == 2 {
		t.shiftPct, t.shiftMs, t.p = math.NaN(), math.NaN(), math.NaN()
		fmt.Fprintf(os.Stderr, "gate could not measure: %s\n", strings.TrimSpace(stderr.String()))
		return t, nil
	}
	var doc gate.Document
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		return t, fmt.Errorf("reading the gate's report: %v (stderr: %s)", err, stderr.String())
	}
	for _, m := range doc.Metrics {
		if m.Gated {
			t.shiftPct, t.shiftMs, t.p = float64(m.ShiftPct.Center), float64(m.Shift.Center), float64(m.P)
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
		sink = work(rounds)
		rates = append(rates, rounds/(float64(time.Since(start))/float64(time.Millisecond)))
	}
	return median(rates)
}

var sink uint64

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
