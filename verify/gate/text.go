package gate

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/verify"
)

// WriteText writes the report for a terminal or a CI log: the verdict and
// its reasons first, then the tables.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	switch r.Verdict() {
	case VerdictPass:
		b.WriteString("fnopt gate: PASS\n")
	case VerdictCouldNotTell:
		b.WriteString("fnopt gate: COULD NOT TELL\n")
	default:
		b.WriteString("fnopt gate: FAIL\n")
	}
	for _, f := range r.Failures() {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	for _, f := range r.CouldNotTell() {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	fmt.Fprintf(&b, "\nbefore  %s (%d samples)\nafter   %s (%d samples)\n\n",
		orUnnamed(r.Before.Label), len(r.Before.Samples), orUnnamed(r.After.Label), len(r.After.Samples))

	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "METRIC\tBEFORE P50\tAFTER P50\tSHIFT\t%.0f%% CI\tPCT\tP\tVERDICT\n", 100*r.Confidence)
	for _, m := range r.Metrics {
		c := m.Comparison
		name := MetricLabel(m.Metric)
		if m.Gated {
			name += " (gated)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t[%s, %s]\t%s\t%s\t%s\n", name,
			formatValue(m.Metric, c.Before.Center), formatValue(m.Metric, c.After.Center),
			formatDelta(m.Metric, c.Shift.Center), formatDelta(m.Metric, c.Shift.Lo), formatDelta(m.Metric, c.Shift.Hi),
			formatPct(c.ShiftPct().Center), formatP(c.P), tableChange(m))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if line := resolutionLine(r); line != "" {
		fmt.Fprintf(&b, "\nresolution: %s\n", line)
	}
	if line := samplingLine(r); line != "" {
		fmt.Fprintf(&b, "sampling: %s\n", line)
	}

	if len(r.Sizes) > 0 {
		b.WriteString("\n")
		fmt.Fprintf(tw, "SIZE\tBEFORE\tAFTER\tGROWTH\t\n")
		for _, s := range r.Sizes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, bytesize.Format(s.Before), bytesize.Format(s.After), formatPct(s.GrowthPct), failWord(s.Exceeded))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Budgets) > 0 {
		b.WriteString("\n")
		fmt.Fprintf(tw, "BUDGET\tLIMIT\tVALUE\t\n")
		for _, x := range r.Budgets {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Name, formatBudget(x.Name, x.Limit), formatBudget(x.Name, x.Value), failWord(x.Exceeded))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Warnings) > 0 {
		b.WriteString("\n")
		for _, x := range r.Warnings {
			fmt.Fprintf(&b, "warning: %s\n", x)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", ruleSentence(r))
	_, err := io.WriteString(w, b.String())
	return err
}

// ruleSentence states the rule the verdict applied, so a reader of a red
// build knows what would have passed.
func ruleSentence(r *Result) string {
	t := r.Thresholds
	s := fmt.Sprintf("A gated metric fails when its shift (Hodges-Lehmann) is significant (Mann-Whitney U, p < %g) and exceeds both %+g%% and %+g ms.", t.Alpha, t.MaxRegressionPct, t.MinDeltaMs)
	if r.Sampling.Adaptive {
		s = fmt.Sprintf("A gated metric fails when its shift (Hodges-Lehmann) is significant (Mann-Whitney U, at the level of the look that stopped sampling) and exceeds both %+g%% and %+g ms."+
			" Sampling stops when the shift's %s repeated confidence interval lies above that threshold, or below it with the minimum detectable effect (80%% power) within it or the metric significantly faster, or at %d samples a side; Lan-DeMets alpha spending (Pocock type) keeps the false-alarm rate at %g over all looks.",
			t.MaxRegressionPct, t.MinDeltaMs, levelText(1-t.Alpha), r.Sampling.MaxSamples, t.Alpha)
	}
	s += " A pass whose minimum detectable effect (80% power) is above the threshold could not tell, unless the metric is significantly faster."
	if t.MaxSizeGrowthPct >= 0 {
		s += fmt.Sprintf(" Artifacts may grow by %g%%.", t.MaxSizeGrowthPct)
	}
	return s
}

// gatedMetric is the result of the metric that decides the verdict; nil
// when none was compared.
func (r *Result) gatedMetric() *MetricResult {
	for i := range r.Metrics {
		if r.Metrics[i].Gated {
			return &r.Metrics[i]
		}
	}
	return nil
}

// resolutionLine says what the gated metric's comparison could detect.
func resolutionLine(r *Result) string {
	m := r.gatedMetric()
	if m == nil {
		return ""
	}
	if math.IsInf(m.MDE.Power80, 1) {
		return fmt.Sprintf("%s: with %d and %d samples no shift, however large, is detectable at p < %s; the threshold is %s (%s)",
			MetricLabel(m.Metric), m.Comparison.N1, m.Comparison.N2, pLevel(m.MDE.Alpha), formatPct(m.pct(m.Threshold)), formatDelta(m.Metric, m.Threshold))
	}
	return fmt.Sprintf("%s detects a shift of %s (%s) with 80%% power, %s (%s) with 95%%, at p < %s; the threshold is %s (%s)",
		MetricLabel(m.Metric),
		formatPct(m.pct(m.MDE.Power80)), formatDelta(m.Metric, m.MDE.Power80),
		formatPct(m.pct(m.MDE.Power95)), formatDelta(m.Metric, m.MDE.Power95),
		pLevel(m.MDE.Alpha), formatPct(m.pct(m.Threshold)), formatDelta(m.Metric, m.Threshold))
}

// samplingLine says how an adaptive run sampled and why it stopped; ""
// for a fixed run, whose sample counts the report already shows.
func samplingLine(r *Result) string {
	l := r.Sampling.Last()
	if l == nil {
		return ""
	}
	m := r.gatedMetric()
	metric := verify.MetricInit
	if m != nil {
		metric = m.Metric
	}
	ci := fmt.Sprintf("the shift's %s repeated confidence interval [%s, %s]", levelText(1-r.Thresholds.Alpha),
		formatDelta(metric, l.Shift.Lo), formatDelta(metric, l.Shift.Hi))
	th := formatDelta(metric, l.Threshold)
	s := fmt.Sprintf("adaptive, %d samples a side in %d looks (at most %d): ", l.N2, len(r.Sampling.Looks), r.Sampling.MaxSamples)
	switch l.Stop {
	case StopWithin:
		return s + "stopped as " + ci + " lies below the threshold " + th
	case StopBeyond:
		return s + "stopped as " + ci + " lies above the threshold " + th
	}
	return s + "reached the cap undecided (" + ci + ", threshold " + th + "): decided by the estimate, at p < " + pLevel(l.Alpha)
}

// levelText renders a confidence level as a percentage: "95%".
func levelText(level float64) string { return trimFloat(100*level) + "%" }

// pLevel renders a significance level compactly: 0.05, 0.0123, 1.2e-05.
func pLevel(alpha float64) string {
	if alpha >= 0.001 {
		return strconv.FormatFloat(alpha, 'g', 3, 64)
	}
	return strconv.FormatFloat(alpha, 'e', 1, 64)
}

func failWord(exceeded bool) string {
	if exceeded {
		return "FAIL"
	}
	return "ok"
}

func orUnnamed(label string) string {
	if label == "" {
		return "(unnamed)"
	}
	return label
}
