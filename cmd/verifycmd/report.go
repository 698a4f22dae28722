package verifycmd

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// Schema names the --json document; an incompatible change gets v2.
const Schema = "fnopt.verify/v1"

// Report is what `fnopt verify` found, as printed and as --json emits it.
type Report struct {
	Schema string `json:"schema"`
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	// Samples is the number of cold starts measured; Warm the warm
	// invocations after each.
	Samples int `json:"samples"`
	Warm    int `json:"warm"`

	InitMs        stats.Summary  `json:"init_ms"`
	FirstInvokeMs stats.Summary  `json:"first_invoke_ms"`
	ColdStartMs   stats.Summary  `json:"cold_start_ms"`
	WarmInvokeMs  *stats.Summary `json:"warm_invoke_ms"`
	MaxRSSBytes   stats.Summary  `json:"max_rss_bytes"`

	// MeasuredArch is the architecture that ran; Artifact the sizes of
	// what ships (for a cross-architecture project, its deployed build).
	MeasuredArch settings.Arch  `json:"measured_arch"`
	Artifact     ArtifactReport `json:"artifact"`
	Machine      verify.Machine `json:"machine"`
	Settings     SettingsReport `json:"settings"`
	Notes        []string       `json:"notes,omitempty"`
	Failure      *FailureReport `json:"failure,omitempty"`
	Functional   *FunctionalRun `json:"functional_check,omitempty"`
	// Budgets are fnopt.yaml's budgets checked against this measurement
	// (a project target whose function answered); a budget exceeded makes
	// the exit status 1. Budgets that could not be checked are notes.
	Budgets []verify.BudgetResult `json:"budgets,omitempty"`
	Raw     []verify.Sample       `json:"raw_samples"`
}

// ArtifactReport lists artifact sizes.
type ArtifactReport struct {
	Arch  settings.Arch     `json:"arch"`
	Sizes []verify.Artifact `json:"sizes"`
}

// SettingsReport records how the figures were measured.
type SettingsReport struct {
	MemoryMB      int    `json:"memory_mb"`
	MemoryLimited bool   `json:"memory_limited"`
	ColdCache     bool   `json:"cold_cache"`
	TimeoutMs     int64  `json:"timeout_ms"`
	EventBytes    int    `json:"event_bytes"`
	Expect        string `json:"expect,omitempty"`
}

// FailureReport is how the function failed.
type FailureReport struct {
	Sample       int    `json:"sample"`
	Phase        string `json:"phase"`
	Reason       string `json:"reason"`
	ErrorType    string `json:"error_type,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	Exit         string `json:"exit,omitempty"`
	Output       string `json:"output,omitempty"`
}

// FunctionalRun is the once-only run of the deployed architecture's build
// under qemu.
type FunctionalRun struct {
	Arch   settings.Arch `json:"arch"`
	Runner string        `json:"runner"`
	OK     bool          `json:"ok"`
	Error  string        `json:"error,omitempty"`
}

// NewReport summarises one target's run.
func NewReport(run verify.Run, o verify.Options, machine verify.Machine) *Report {
	r := &Report{
		Schema:        Schema,
		Target:        run.Target.Name,
		OK:            run.OK(),
		Samples:       len(run.Samples),
		Warm:          o.Warm,
		InitMs:        stats.Summarize(verify.Values(run.Samples, verify.MetricInit)),
		FirstInvokeMs: stats.Summarize(verify.Values(run.Samples, verify.MetricFirstInvoke)),
		ColdStartMs:   stats.Summarize(verify.Values(run.Samples, verify.MetricColdStart)),
		MaxRSSBytes:   stats.Summarize(verify.Values(run.Samples, verify.MetricMaxRSS)),
		MeasuredArch:  run.Target.Arch,
		Artifact:      artifactReport(run.Target),
		Machine:       machine,
		Notes:         run.Notes,
		Raw:           run.Samples,
		Settings: SettingsReport{
			MemoryMB:   o.Function.MemoryMB,
			ColdCache:  o.ColdCache,
			TimeoutMs:  o.Timeout.Milliseconds(),
			EventBytes: len(o.Event),
		},
	}
	if len(o.Event) == 0 {
		r.Settings.EventBytes = len(verify.DefaultEvent)
	}
	if r.Raw == nil {
		r.Raw = []verify.Sample{}
	}
	// A missing peak RSS is left out of its summary (verify.Values), so
	// the summary is of fewer samples: say how many, and why.
	if n := verify.Missing(run.Samples, verify.MetricMaxRSS); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("peak RSS not read in %d of %d samples (the process had ended before it could be); its figures are of the other %d", n, len(run.Samples), len(run.Samples)-n))
	}
	if o.Expect != nil {
		r.Settings.Expect = o.Expect.String()
	}
	if w := verify.Values(run.Samples, verify.MetricWarmInvoke); len(w) > 0 {
		s := stats.Summarize(w)
		r.WarmInvokeMs = &s
	}
	if f := run.Failure; f != nil {
		r.Failure = &FailureReport{Sample: f.Sample, Phase: f.Phase, Reason: f.Reason, Exit: f.Exit, Output: f.Output}
		if f.FunctionError != nil {
			r.Failure.ErrorType, r.Failure.ErrorMessage = f.FunctionError.Type, f.FunctionError.Message
		}
	}
	return r
}

// addCrossCheck reports the run of the deployed architecture's build
// under emulation (nil: there is no such build), or notes that no
// emulator could run it.
func (r *Report) addCrossCheck(cr *verify.CrossRun) {
	switch {
	case cr == nil:
	case !cr.Ran():
		r.Notes = append(r.Notes, fmt.Sprintf("qemu-aarch64-static not found: the %s build was not run (apt install qemu-user-static)", cr.Arch))
	default:
		r.Functional = &FunctionalRun{Arch: cr.Arch, Runner: cr.Runner, OK: cr.OK()}
		if cr.Err != nil {
			r.Functional.Error = cr.Err.Error()
		}
	}
}

// addBudgets reports the budget check: every result, and a note for each
// budget that could not be checked.
func (r *Report) addBudgets(bc verify.BudgetCheck) {
	r.Budgets = bc.Results
	r.Notes = append(r.Notes, bc.Unchecked...)
}

// exceeded are the budgets the measurement went over.
func (r *Report) exceeded() []verify.BudgetResult {
	var out []verify.BudgetResult
	for _, b := range r.Budgets {
		if b.Exceeded {
			out = append(out, b)
		}
	}
	return out
}

// artifactReport gives the sizes of what ships: for a cross-architecture
// project, only the deployed architecture's build.
func artifactReport(t *verify.Target) ArtifactReport {
	arch := t.Arch
	if t.CrossArch != "" {
		arch = t.CrossArch
	}
	a := ArtifactReport{Arch: arch, Sizes: []verify.Artifact{}}
	for _, s := range t.Artifacts {
		if s.Arch == arch || s.Arch == "" {
			a.Sizes = append(a.Sizes, s)
		}
	}
	return a
}

// WriteText prints the report as a table.
func WriteText(w io.Writer, r *Report) {
	fmt.Fprintf(w, "%s: %d cold starts", r.Target, r.Samples)
	if r.Warm > 0 {
		fmt.Fprintf(w, ", %d warm invocations each", r.Warm)
	}
	fmt.Fprintf(w, " (%s)\n\n", r.MeasuredArch)
	if r.Samples > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		// Equal-width labels stay left-aligned in a right-aligned table.
		fmt.Fprintf(tw, "%-12s\tp50\tp90\tp99\tmin\tmax\tmean\tp50 95%% CI\t\n", "")
		row := func(name string, s stats.Summary, f func(float64) string) {
			if s.N == 0 {
				// Every figure missing: nothing to show, not zeros.
				fmt.Fprintf(tw, "%-12s\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\tn/a\t\n", name)
				return
			}
			ci := "n/a"
			if s.CILow != nil {
				ci = f(*s.CILow) + " .. " + f(*s.CIHigh)
			}
			fmt.Fprintf(tw, "%-12s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, f(s.P50), f(s.P90), f(s.P99), f(s.Min), f(s.Max), f(s.Mean), ci)
		}
		row("init", r.InitMs, msText)
		row("first invoke", r.FirstInvokeMs, msText)
		row("cold start", r.ColdStartMs, msText)
		if r.WarmInvokeMs != nil {
			row("warm invoke", *r.WarmInvokeMs, msText)
		}
		row("peak RSS", r.MaxRSSBytes, bytesize.Float)
		tw.Flush()
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
