package gate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fnopt/fnopt/internal/bytesize"
)

// WriteText writes the report for a terminal or a CI log: the verdict and
// its reasons first, then the tables.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	if r.Pass() {
		b.WriteString("fnopt gate: PASS\n")
	} else {
		b.WriteString("fnopt gate: FAIL\n")
	}
	for _, f := range r.Failures() {
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
			formatPct(c.ShiftPct().Center), formatP(c.P), changeWord(m.Metric, m.Change))
	}
	if err := tw.Flush(); err != nil {
		return err
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
	if t.MaxSizeGrowthPct >= 0 {
		s += fmt.Sprintf(" Artifacts may grow by %g%%.", t.MaxSizeGrowthPct)
	}
	return s
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
