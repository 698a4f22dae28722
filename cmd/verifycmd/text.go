package verifycmd

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/verify/stats"
)

// The text report of fnopt verify.

// WriteText prints the report as a table.
func WriteText(w io.Writer, r *Report) {
	fmt.Fprintf(w, "%s: %d cold starts", r.Target, r.Samples)
	if r.Warm > 0 {
		fmt.Fprintf(w, ", %d warm invocations each", r.Warm)
	}
	fmt.Fprintf(w, " (%s)\n\n", r.MeasuredArch)
	if r.Samples > 0 {
		t := newSummaryTable(w)
		t.row("init", r.InitMs, msText)
		t.row("first invoke", r.FirstInvokeMs, msText)
		t.row("cold start", r.ColdStartMs, msText)
		if r.WarmInvokeMs != nil {
			t.row("warm invoke", *r.WarmInvokeMs, msText)
		}
		t.row("peak RSS", r.MaxRSSBytes, bytesize.Float)
		t.flush()
		fmt.Fprintln(w)
	}
	var sizes []string
	for _, a := range r.Artifact.Sizes {
		sizes = append(sizes, fmt.Sprintf("%s %s", a.Name, bytesize.Format(a.Bytes)))
	}
	fmt.Fprintf(w, "artifact (%s): %s\n", r.Artifact.Arch, strings.Join(sizes, ", "))
	fmt.Fprintf(w, "machine: %s, %d CPUs, Linux %s, %s\n", r.Machine.CPU, r.Machine.CPUs, r.Machine.Kernel, r.Machine.Arch)
	if r.Settings.MemoryLimited {
		fmt.Fprintf(w, "memory: %d MB, enforced\n", r.Settings.MemoryMB)
	}
	if r.Settings.EventFile != "" {
		fmt.Fprintf(w, "event: %s\n", r.Settings.EventFile)
	}
	if len(r.Settings.Env) > 0 {
		fmt.Fprintf(w, "env: %s\n", strings.Join(r.Settings.Env, ", "))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if f := r.Functional; f != nil {
		status := "ok"
		if !f.OK {
			status = "FAILED: " + f.Error
		}
		fmt.Fprintf(w, "functional check of the %s build under %s: %s\n", f.Arch, f.Runner, status)
	}
	if len(r.Budgets) > 0 {
		var checks []string
		for _, b := range r.Budgets {
			mark := "ok"
			if b.Exceeded {
				mark = "EXCEEDED"
			}
			checks = append(checks, b.String()+" "+mark)
		}
		fmt.Fprintf(w, "budgets (fnopt.yaml): %s\n", strings.Join(checks, ", "))
	}
	if f := r.Failure; f != nil {
		fmt.Fprintf(w, "FAILED in sample %d, %s: %s", f.Sample, f.Phase, f.Reason)
		if f.ErrorType != "" {
			fmt.Fprintf(w, ": %s: %s", f.ErrorType, f.ErrorMessage)
		}
		if f.Exit != "" {
			fmt.Fprintf(w, " (%s)", f.Exit)
		}
		fmt.Fprintln(w)
		if out := strings.TrimRight(f.Output, "\n"); out != "" {
			fmt.Fprintf(w, "function output (last lines):\n%s\n", indent(out))
		}
		return
	}
	if over := r.exceeded(); len(over) > 0 {
		var names []string
		for _, b := range over {
			names = append(names, b.Name)
		}
		fmt.Fprintf(w, "FAILED: over budget (%s): a slower start or a bigger artifact than fnopt.yaml allows\n", strings.Join(names, ", "))
		return
	}
	fmt.Fprintln(w, "ok")
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func msText(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// summaryTable is the table of figures of verify's text reports, local and
// on Lambda: a row a metric, its percentiles, extremes, mean and the p50's
// confidence interval.
type summaryTable struct{ tw *tabwriter.Writer }

func newSummaryTable(w io.Writer) *summaryTable {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// Equal-width labels stay left-aligned in a right-aligned table.
	fmt.Fprintf(tw, "%-12s\tp50\tp90\tp99\tmin\tmax\tmean\tp50 95%% CI\t\n", "")
	return &summaryTable{tw: tw}
}

// row writes one metric's summary, each figure formatted by f.
func (t *summaryTable) row(name string, s stats.Summary, f func(float64) string) {
	if s.N == 0 {
		// Every figure missing: nothing to show, not zeros.
		fmt.Fprintf(t.tw, "%-12s\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\t\n", name)
		return
	}
	ci := "n/a"
	if s.CILow != nil {
		ci = f(*s.CILow) + " .. " + f(*s.CIHigh)
	}
	fmt.Fprintf(t.tw, "%-12s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, f(s.P50), f(s.P90), f(s.P99), f(s.Min), f(s.Max), f(s.Mean), ci)
}

func (t *summaryTable) flush() { t.tw.Flush() }
