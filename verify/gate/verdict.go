package gate

import (
	"errors"
	"fmt"
	"math"
	"slices"

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

// BudgetResult is one fnopt.yaml budget checked against the After side.
type BudgetResult struct {
	Name     string // "init_p50_ms", "init_p90_ms", "artifact_bytes"
	Limit    float64
	Value    float64
	Exceeded bool
}

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

// ExitCode is the command's exit status for this verdict: 0 pass, 1 fail.
// (Status 2, could not measure, is an error before a Result exists.)
func (r *Result) ExitCode() int {
	if r.Pass() {
		return 0
	}
	return 1
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
	r := &Result{Before: in.Before, After: in.After, Thresholds: in.Thresholds, Confidence: conf}

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
		r.Metrics = append(r.Metrics, MetricResult{
			Metric:     m,
			Gated:      isGated,
			Comparison: c,
			Change:     classify(c, in.Thresholds, m != verify.MetricMaxRSS),
			P90Before:  Quantile(before, 0.9),
			P90After:   Quantile(after, 0.9),
		})
	}

	r.Sizes = compareSizes(in.Before.Sizes, in.After.Sizes, in.Thresholds.MaxSizeGrowthPct)
	r.Budgets = checkBudgets(in.Budgets, in.After)
	if in.Budgets.ArtifactBytes > 0 && in.After.Sizes[in.After.Artifact] == 0 {
		r.Warnings = append(r.Warnings, "budget artifact_bytes not checked: the artifact's size is unknown")
	}
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

// checkBudgets applies fnopt.yaml's absolute budgets to the After side.
// Budgets are plain limits on the measured figures, no test: they say
// "never slower than this on this machine", independent of the baseline.
func checkBudgets(b config.Budgets, after Side) []BudgetResult {
	var out []BudgetResult
	initMs := verify.Values(after.Samples, verify.MetricInit)
	if b.InitP50Ms > 0 && len(initMs) > 0 {
		v := Quantile(initMs, 0.5)
		out = append(out, BudgetResult{Name: "init_p50_ms", Limit: b.InitP50Ms, Value: v, Exceeded: v > b.InitP50Ms})
	}
	if b.InitP90Ms > 0 && len(initMs) > 0 {
		v := Quantile(initMs, 0.9)
		out = append(out, BudgetResult{Name: "init_p90_ms", Limit: b.InitP90Ms, Value: v, Exceeded: v > b.InitP90Ms})
	}
	if size := after.Sizes[after.Artifact]; b.ArtifactBytes > 0 && size > 0 {
		out = append(out, BudgetResult{Name: "artifact_bytes", Limit: float64(b.ArtifactBytes), Value: float64(size), Exceeded: size > b.ArtifactBytes})
	}
	return out
}

// GateMetrics are the --gate-metric names and the metrics they gate.
var GateMetrics = map[string]verify.Metric{
	"init":         verify.MetricInit,
	"cold-start":   verify.MetricColdStart,
	"first-invoke": verify.MetricFirstInvoke,
	"warm-invoke":  verify.MetricWarmInvoke,
}

// ParseGateMetric accepts a --gate-metric value.
func ParseGateMetric(s string) (verify.Metric, error) {
	if m, ok := GateMetrics[s]; ok {
		return m, nil
	}
	return "", fmt.Errorf("gate metric %q is not one of init, cold-start, first-invoke, warm-invoke", s)
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
