package gate

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/verify"
)

// Defaults of the gate's thresholds; docs/gate.md explains each choice.
const (
	DefaultAlpha            = 0.05
	DefaultConfidence       = 0.95
	DefaultMaxRegressionPct = 10
	DefaultMinDeltaMs       = 0.25
	DefaultMaxSizeGrowthPct = 5
	// DefaultSamples is the cold starts per side the gate takes unless
	// told otherwise. On this project's loaded 2-core machine 60 caught a
	// +15% init regression in 19 of 20 runs, just at the target; 100 in
	// 20 of 20 with the smallest estimate at +13% (docs/gate.md).
	DefaultSamples = 100
)

// Thresholds decide when a difference fails the gate.
type Thresholds struct {
	// Alpha is the significance level of the two-sided Mann-Whitney U
	// test; a change is significant when p < Alpha.
	Alpha float64 `json:"alpha"`
	// MaxRegressionPct is how much slower (Hodges-Lehmann shift relative
	// to the median before) a gated metric may get; a regression must
	// exceed it.
	MaxRegressionPct float64 `json:"max_regression_pct"`
	// MinDeltaMs is the smallest absolute shift, in ms, that counts: it
	// keeps sub-millisecond jitter on very fast functions from failing a
	// build on a percentage alone. It applies to millisecond metrics.
	MinDeltaMs float64 `json:"min_delta_ms"`
	// MaxSizeGrowthPct is how much an artifact may grow; negative turns
	// the size check off. Sizes are exact, so no test is involved.
	MaxSizeGrowthPct float64 `json:"max_size_growth_pct"`
}

// DefaultThresholds returns the documented defaults.
func DefaultThresholds() Thresholds {
	return Thresholds{
		Alpha:            DefaultAlpha,
		MaxRegressionPct: DefaultMaxRegressionPct,
		MinDeltaMs:       DefaultMinDeltaMs,
		MaxSizeGrowthPct: DefaultMaxSizeGrowthPct,
	}
}

// Validate rejects thresholds that make no sense.
func (t Thresholds) Validate() error {
	switch {
	case !(t.Alpha > 0 && t.Alpha < 1):
		return fmt.Errorf("alpha %v must be between 0 and 1", t.Alpha)
	case t.MaxRegressionPct < 0 || math.IsNaN(t.MaxRegressionPct):
		return fmt.Errorf("max regression %v%% must not be negative", t.MaxRegressionPct)
	case t.MinDeltaMs < 0 || math.IsNaN(t.MinDeltaMs):
		return fmt.Errorf("min delta %v ms must not be negative", t.MinDeltaMs)
	case math.IsNaN(t.MaxSizeGrowthPct):
		return errors.New("max size growth is not a number")
	}
	return nil
}

// Side is one of the two things compared: the baseline (or base
// revision) and the change.
type Side struct {
	// Label says what was measured, e.g. "base 1a2b3c4" or a file name.
	Label   string
	Samples []verify.Sample
	// Sizes are artifact sizes in bytes by name ("bootstrap", "zip").
	Sizes map[string]int64
	// Artifact is the key in Sizes of what ships; the artifact_bytes
	// budget applies to it.
	Artifact string
}

// Input is everything the verdict is decided on.
type Input struct {
	Before, After Side
	Thresholds    Thresholds
	// Budgets from fnopt.yaml apply to the After side.
	Budgets config.Budgets
	// Gated are the metrics whose regression fails the gate; the others
	// are reported only. Nil means init alone (see docs/gate.md).
	Gated []verify.Metric
	// Confidence is the level of the reported intervals (0 = 0.95).
	Confidence float64
	// Sampling is how the samples were taken. For an adaptive run the
	// gated metric is tested at the nominal level of the look that
	// stopped it, which keeps the false-alarm rate over all its looks at
	// Thresholds.Alpha; the other metrics at Thresholds.Alpha.
	Sampling Sampling
	// Strict turns "could not tell" from a pass into exit status 2.
	Strict bool
}

// Change classifies the difference in one metric.
type Change string

const (
	// ChangeNone: not significant; the samples cannot tell the sides apart.
	ChangeNone Change = "none"
	// ChangeSlower and ChangeFaster: significant but within the
	// thresholds, so too small to act on.
	ChangeSlower Change = "slower"
	ChangeFaster Change = "faster"
	// ChangeRegression: significant and beyond both thresholds.
	ChangeRegression Change = "regression"
	// ChangeImprovement: the same, in the good direction.
	ChangeImprovement Change = "improvement"
)

// MetricResult is the comparison of one metric and what it means.
type MetricResult struct {
	Metric     verify.Metric
	Gated      bool
	Comparison *Comparison
	Change     Change
	// P90Before and P90After are the 90th percentiles, for reports.
	P90Before, P90After float64
	// Threshold is the smallest shift, in the metric's unit, that is a
	// regression: MaxRegressionPct of the median before, and for times at
	// least MinDeltaMs.
	Threshold float64
	// MDE is the comparison's minimum detectable effect at the level the
	// metric was tested at.
	MDE MDE
}

// CouldNotTell reports whether this metric gates the verdict, did not
// regress, and yet the run could not have detected a regression of the
// threshold's size with 80% power: a pass that means little. A metric
// found significantly faster is told apart: its interval at the test's
// level lies below zero, so below the threshold too.
func (m *MetricResult) CouldNotTell() bool {
	switch m.Change {
	case ChangeRegression, ChangeFaster, ChangeImprovement:
		return false
	}
	return m.Gated && !(m.MDE.Power80 <= m.Threshold)
}

// pct is v relative to the median before, in percent.
func (m *MetricResult) pct(v float64) float64 {
	if b := m.Comparison.Before.Center; b != 0 {
		return 100 * v / b
	}
	return math.NaN()
}

// Failed reports whether this metric fails the gate.
func (m *MetricResult) Failed() bool { return m.Gated && m.Change == ChangeRegression }

// SizeResult compares one artifact size.
type SizeResult struct {
	Name          string
	Before, After int64
	// GrowthPct is (After − Before) / Before in percent.
	GrowthPct float64
	Exceeded  bool
}

// BudgetResult is one fnopt.yaml budget checked against the After side,
// by verify.CheckBudgets, as plain `fnopt verify` checks them.
type BudgetResult = verify.BudgetResult

// Result is the gate's verdict with everything it was decided on.
type Result struct {
	Before, After Side
	Thresholds    Thresholds
	Confidence    float64
	Metrics       []MetricResult
	Sizes         []SizeResult
	Budgets       []BudgetResult
	// Warnings are facts that weaken the comparison without failing it
	// (e.g. a metric with too few samples to compare).
	Warnings []string
	// Sampling is how the samples were taken; Strict whether a run that
	// could not tell is an exit status 2.
	Sampling Sampling
	Strict   bool
}

// Verdict is the gate's answer in one word.
type Verdict string

const (
	VerdictPass Verdict = "pass"
	VerdictFail Verdict = "fail"
	// VerdictCouldNotTell: nothing failed, but the gated metric's minimum
	// detectable effect is above its threshold, so a regression the size
	// of the threshold could have passed unseen.
	VerdictCouldNotTell Verdict = "could-not-tell"
)

// Verdict is fail when anything fails, else could-not-tell when the gated
// metric could not have shown a regression of the threshold's size, else
// pass.
func (r *Result) Verdict() Verdict {
	switch {
	case !r.Pass():
		return VerdictFail
	case len(r.CouldNotTell()) > 0:
		return VerdictCouldNotTell
	}
	return VerdictPass
}

// CouldNotTell lists, one line each, the gated metrics whose regression of
// the threshold's size this run could have missed, and why.
func (r *Result) CouldNotTell() []string {
	var out []string
	for _, m := range r.Metrics {
		if !m.CouldNotTell() {
			continue
		}
		line := fmt.Sprintf("%s: a regression of %s (%s) could have passed unseen: ",
			MetricLabel(m.Metric), formatPct(m.pct(m.Threshold)), formatDelta(m.Metric, m.Threshold))
		if math.IsInf(m.MDE.Power80, 1) {
			line += fmt.Sprintf("with %d and %d samples no shift, however large, is significant at p < %s; measure more samples",
				m.Comparison.N1, m.Comparison.N2, pLevel(m.MDE.Alpha))
		} else {
			line += fmt.Sprintf("the smallest shift this run detects with 80%% power is %s (%s); measure more samples, or on a quieter machine",
				formatPct(m.pct(m.MDE.Power80)), formatDelta(m.Metric, m.MDE.Power80))
		}
		out = append(out, line)
	}
	return out
}

// Pass reports whether the gate passes: no gated regression, no size
// growth beyond the threshold, no budget exceeded.
func (r *Result) Pass() bool { return len(r.Failures()) == 0 }

// Failures lists, one line each, why the gate fails.
func (r *Result) Failures() []string {
	var out []string
	for _, m := range r.Metrics {
		if m.Failed() {
			pct := m.Comparison.ShiftPct()
			out = append(out, fmt.Sprintf("%s regressed by %+.1f%% (%+.2f ms, %s), more than %g%% and %g ms",
				MetricLabel(m.Metric), pct.Center, m.Comparison.Shift.Center, pText(m.Comparison.P),
				r.Thresholds.MaxRegressionPct, r.Thresholds.MinDeltaMs))
		}
	}
	for _, s := range r.Sizes {
		if s.Exceeded {
			out = append(out, fmt.Sprintf("%s grew by %+.1f%% (%d → %d bytes), more than %g%%",
				s.Name, s.GrowthPct, s.Before, s.After, r.Thresholds.MaxSizeGrowthPct))
		}
	}
	for _, b := range r.Budgets {
		if b.Exceeded {
			out = append(out, fmt.Sprintf("budget %s exceeded: %s > %s", b.Name, formatBudget(b.Name, b.Value), formatBudget(b.Name, b.Limit)))
		}
	}
	return out
}

// ExitCode is the command's exit status for this verdict: 0 pass, 1
// fail; could-not-tell is 0, or 2 when Strict. (Status 2, could not
// measure, is otherwise an error before a Result exists.)
func (r *Result) ExitCode() int {
	switch r.Verdict() {
	case VerdictFail:
		return 1
	case VerdictCouldNotTell:
		if r.Strict {
			return 2
		}
	}
	return 0
}

// reported are the metrics compared, in report order.
var reported = []verify.Metric{verify.MetricInit, verify.MetricFirstInvoke, verify.MetricColdStart, verify.MetricWarmInvoke, verify.MetricMaxRSS}

// Evaluate compares the two sides and decides. It fails (the caller exits
// 2) when a gated metric cannot be compared, e.g. too few samples.
func Evaluate(in Input) (*Result, error) {
	if err := in.Thresholds.Validate(); err != nil {
		return nil, err
	}
	conf := in.Confidence
	if conf == 0 {
		conf = DefaultConfidence
	}
	gated := in.Gated
	if gated == nil {
		gated = []verify.Metric{verify.MetricInit}
	}
	for _, g := range gated {
		if !slices.Contains(reported, g) || g == verify.MetricMaxRSS {
			return nil, fmt.Errorf("metric %q cannot be gated; use one of init_ms, first_invoke_ms, cold_start_ms, warm_invoke_ms", g)
		}
	}
	r := &Result{Before: in.Before, After: in.After, Thresholds: in.Thresholds, Confidence: conf, Sampling: in.Sampling, Strict: in.Strict}

	for _, m := range reported {
		before, after := verify.Values(in.Before.Samples, m), verify.Values(in.After.Samples, m)
		isGated := slices.Contains(gated, m)
		if len(before) == 0 && len(after) == 0 && !isGated {
			continue // e.g. no warm invocations were asked for
		}
		c, err := Compare(before, after, conf)
		if err != nil {
			if isGated {
				return nil, fmt.Errorf("comparing %s: %w", MetricLabel(m), err)
			}
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s not compared: %v", MetricLabel(m), err))
			continue
		}
		// An adaptive run's gated metric is held to the level of the
		// look that stopped it; a look with nothing to spend yet can
		// reject nothing.
		at := in.Thresholds
		if l := in.Sampling.Last(); l != nil && isGated {
			at.Alpha = l.Alpha
		}
		isTime := m != verify.MetricMaxRSS
		threshold := in.Thresholds.MaxRegressionPct / 100 * c.Before.Center
		if isTime {
			threshold = in.Thresholds.RegressionThreshold(c.Before.Center)
		}
		r.Metrics = append(r.Metrics, MetricResult{
			Metric:     m,
			Gated:      isGated,
			Comparison: c,
			Change:     classify(c, at, isTime),
			P90Before:  Quantile(before, 0.9),
			P90After:   Quantile(after, 0.9),
			Threshold:  threshold,
			MDE:        MinimumDetectable(before, after, at.Alpha),
		})
	}

	r.Warnings = append(r.Warnings, shiftSignWarnings(r.Metrics)...)
	r.Sizes = compareSizes(in.Before.Sizes, in.After.Sizes, in.Thresholds.MaxSizeGrowthPct)
	// Budgets are absolute limits on the change's measurement, no test:
	// the same check as plain `fnopt verify`.
	bc := verify.CheckBudgets(in.Budgets, in.After.Samples, in.After.Sizes[in.After.Artifact], "")
	r.Budgets = bc.Results
	r.Warnings = append(r.Warnings, bc.Unchecked...)
	return r, nil
}

// classify applies the verdict rule: significant AND beyond the relative
// threshold AND (for times) beyond the absolute one. Both thresholds are
// strict: a change of exactly MaxRegressionPct passes.
func classify(c *Comparison, t Thresholds, isTime bool) Change {
	if !(c.P < t.Alpha) {
		return ChangeNone
	}
	pct := c.ShiftPct().Center
	delta := c.Shift.Center
	big := func(pct, delta float64) bool {
		return pct > t.MaxRegressionPct && (!isTime || delta > t.MinDeltaMs)
	}
	switch {
	case delta > 0 && big(pct, delta):
		return ChangeRegression
	case delta < 0 && big(-pct, -delta):
		return ChangeImprovement
	case delta > 0:
		return ChangeSlower
	case delta < 0:
		return ChangeFaster
	}
	// Significant with a zero median shift (possible with many ties).
	return ChangeNone
}

// compareSizes compares the sizes both sides have, by name.
func compareSizes(before, after map[string]int64, maxGrowthPct float64) []SizeResult {
	var names []string
	for n := range after {
		if _, ok := before[n]; ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []SizeResult
	for _, n := range names {
		b, a := before[n], after[n]
		s := SizeResult{Name: n, Before: b, After: a}
		if b > 0 {
			s.GrowthPct = 100 * float64(a-b) / float64(b)
		}
		s.Exceeded = maxGrowthPct >= 0 && b > 0 && s.GrowthPct > maxGrowthPct
		out = append(out, s)
	}
	return out
}

// gateMetrics are the --gate-metric names and the metrics they gate, in
// the order they are offered, the default first.
var gateMetrics = []struct {
	name   string
	metric verify.Metric
}{
	{"init", verify.MetricInit},
	{"cold-start", verify.MetricColdStart},
	{"first-invoke", verify.MetricFirstInvoke},
	{"warm-invoke", verify.MetricWarmInvoke},
}

// GateMetricNames are the names ParseGateMetric accepts, the default
// first.
func GateMetricNames() []string {
	names := make([]string, len(gateMetrics))
	for i, g := range gateMetrics {
		names[i] = g.name
	}
	return names
}

// ParseGateMetric accepts a --gate-metric value.
func ParseGateMetric(s string) (verify.Metric, error) {
	for _, g := range gateMetrics {
		if g.name == s {
			return g.metric, nil
		}
	}
	return "", fmt.Errorf("gate metric %q is not one of %s", s, strings.Join(GateMetricNames(), ", "))
}

// MetricLabel is a metric's name in reports.
func MetricLabel(m verify.Metric) string {
	switch m {
	case verify.MetricInit:
		return "init"
	case verify.MetricFirstInvoke:
		return "first invoke"
	case verify.MetricColdStart:
		return "cold start"
	case verify.MetricWarmInvoke:
		return "warm invoke"
	case verify.MetricMaxRSS:
		return "peak RSS"
	}
	return string(m)
}

func formatBudget(name string, v float64) string {
	if name == "artifact_bytes" {
		return fmt.Sprintf("%.0f bytes", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}
