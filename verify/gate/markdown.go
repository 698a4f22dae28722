package gate

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/verify"
)

// AppendMarkdown adds the markdown report to the file at path, creating
// it if need be. It is for GitHub's job summary ($GITHUB_STEP_SUMMARY),
// which other steps write to too: it appends, never replaces.
func AppendMarkdown(path string, r *Result) error {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r); err != nil {
		return err
	}
	b.WriteByte('\n')
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("writing the job summary: %w", err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("writing the job summary: %w", err)
	}
	return f.Close()
}

// WriteMarkdown writes the report for a pull request comment or
// $GITHUB_STEP_SUMMARY: the verdict as a heading, the reasons, a table of
// before/after/shift with confidence intervals, then a mermaid bar chart
// of p50 and p90 for each gated metric (GitHub renders mermaid blocks).
func WriteMarkdown(w io.Writer, r *Result) error {
	var b strings.Builder
	switch r.Verdict() {
	case VerdictPass:
		b.WriteString("### ✅ fnopt gate passed\n\n")
	case VerdictCouldNotTell:
		b.WriteString("### ⚠️ fnopt gate could not tell\n\n")
	default:
		b.WriteString("### ❌ fnopt gate failed\n\n")
	}
	reasons := append(r.Failures(), r.CouldNotTell()...)
	for _, f := range reasons {
		fmt.Fprintf(&b, "- %s\n", mdEscape(f))
	}
	if len(reasons) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "**before** %s · %d samples<br>\n**after** %s · %d samples\n\n",
		mdEscape(orUnnamed(r.Before.Label)), len(r.Before.Samples), mdEscape(orUnnamed(r.After.Label)), len(r.After.Samples))

	fmt.Fprintf(&b, "| metric | before p50 | after p50 | shift (%.0f%% CI) | %% | p | verdict |\n", 100*r.Confidence)
	b.WriteString("|:--|--:|--:|--:|--:|--:|:--|\n")
	for _, m := range r.Metrics {
		c := m.Comparison
		name := MetricLabel(m.Metric)
		if m.Gated {
			name = "**" + name + "** (gated)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s [%s, %s] | %s | %s | %s |\n", name,
			formatValue(m.Metric, c.Before.Center), formatValue(m.Metric, c.After.Center),
			formatDelta(m.Metric, c.Shift.Center), formatDelta(m.Metric, c.Shift.Lo), formatDelta(m.Metric, c.Shift.Hi),
			formatPct(c.ShiftPct().Center), mdEscape(formatP(c.P)), mdChange(m))
	}

	if line := resolutionLine(r); line != "" {
		fmt.Fprintf(&b, "\n**resolution**: %s\n", mdEscape(line))
	}
	if line := samplingLine(r); line != "" {
		fmt.Fprintf(&b, "<br>\n**sampling**: %s\n", mdEscape(line))
	}

	for _, m := range r.Metrics {
		if m.Gated {
			writeMermaid(&b, m)
		}
	}

	if len(r.Sizes) > 0 {
		b.WriteString("\n| artifact | before | after | growth | |\n|:--|--:|--:|--:|:--|\n")
		for _, s := range r.Sizes {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mdEscape(s.Name), bytesize.Format(s.Before), bytesize.Format(s.After), formatPct(s.GrowthPct), mdMark(s.Exceeded))
		}
	}
	if len(r.Budgets) > 0 {
		b.WriteString("\n| budget (fnopt.yaml) | limit | value | |\n|:--|--:|--:|:--|\n")
		for _, x := range r.Budgets {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", x.Name, formatBudget(x.Name, x.Limit), formatBudget(x.Name, x.Value), mdMark(x.Exceeded))
		}
	}
	for _, x := range r.Warnings {
		fmt.Fprintf(&b, "\n> ⚠️ %s\n", mdEscape(x))
	}
	fmt.Fprintf(&b, "\n<sub>%s</sub>\n", mdEscape(ruleSentence(r)))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMermaid draws p50 and p90 before and after as one bar series over
// four categories. One series, because xychart-beta draws several bar
// series on top of each other rather than side by side.
func writeMermaid(b *strings.Builder, m MetricResult) {
	c := m.Comparison
	vals := []float64{c.Before.Center, c.After.Center, m.P90Before, m.P90After}
	unit, scale := "ms", 1.0
	if m.Metric == verify.MetricMaxRSS {
		unit, scale = "MiB", 1.0/(1<<20)
	}
	top := 0.0
	for i := range vals {
		vals[i] *= scale
		top = math.Max(top, vals[i])
	}
	top = niceCeil(top * 1.1)
	fmt.Fprintf(b, "\n```mermaid\nxychart-beta\n    title \"%s (%s): before vs after\"\n", MetricLabel(m.Metric), unit)
	b.WriteString("    x-axis [\"p50 before\", \"p50 after\", \"p90 before\", \"p90 after\"]\n")
	fmt.Fprintf(b, "    y-axis \"%s\" 0 --> %s\n", unit, trimFloat(top))
	fmt.Fprintf(b, "    bar [%s, %s, %s, %s]\n```\n", trimFloat(vals[0]), trimFloat(vals[1]), trimFloat(vals[2]), trimFloat(vals[3]))
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, for an axis.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= v {
			return f * p
		}
	}
	return 10 * p
}

// trimFloat prints v with at most three decimals and no trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func mdChange(m MetricResult) string {
	switch {
	case m.Change == ChangeRegression && m.Gated:
		return "❌ regression"
	case m.Change == ChangeRegression:
		return "⚠️ regression (not gated)"
	case m.Change == ChangeImprovement:
		return "🚀 improvement"
	}
	return changeWord(m.Metric, m.Change)
}

func mdMark(exceeded bool) string {
	if exceeded {
		return "❌"
	}
	return "✅"
}

// mdEscape keeps table cells and lists intact: pipes split cells and
// angle brackets would be read as HTML.
var mdEscaper = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ")

func mdEscape(s string) string { return mdEscaper.Replace(s) }
