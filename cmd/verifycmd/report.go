package verifycmd

import (
	"fmt"
	"strings"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/version"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// Schema names the --json document; an incompatible change gets v2.
const Schema = "fnopt.verify/v1"

// Report is what `fnopt verify` found, as printed and as --json emits it.
type Report struct {
	Schema string `json:"schema"`
	// FnoptVersion is the fnopt that measured (internal/version).
	FnoptVersion string `json:"fnopt_version"`
	Target       string `json:"target"`
	OK           bool   `json:"ok"`
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
	MemoryMB      int   `json:"memory_mb"`
	MemoryLimited bool  `json:"memory_limited"`
	ColdCache     bool  `json:"cold_cache"`
	TimeoutMs     int64 `json:"timeout_ms"`
	EventBytes    int   `json:"event_bytes"`
	// EventFile is the file the event was read from: --event, or a
	// project's testdata/event.json; absent for the default event.
	EventFile string `json:"event_file,omitempty"`
	// Env names the function's own environment variables (template.yaml,
	// fnopt.yaml, --env-file, --env); their values are not reported, as
	// they may be secrets.
	Env    []string `json:"env,omitempty"`
	Expect string   `json:"expect,omitempty"`
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
		FnoptVersion:  version.Get().Version,
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
			EventFile:  o.EventFile,
		},
	}
	for _, kv := range o.Function.Env {
		k, _, _ := strings.Cut(kv, "=")
		r.Settings.Env = append(r.Settings.Env, k)
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
