package gate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/fnopt/fnopt/internal/version"
	"github.com/fnopt/fnopt/verify"
)

// ReportSchema names the JSON report format (--format json).
const ReportSchema = "fnopt.gate/v1"

// Format is a report format.
type Format string

const (
	FormatText     Format = "text"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
)

// Formats are the report formats' names, as ParseFormat accepts them.
var Formats = []string{string(FormatText), string(FormatJSON), string(FormatMarkdown)}

// ParseFormat accepts the --format values.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if s == f {
			return Format(s), nil
		}
	}
	return "", fmt.Errorf("format %q is not one of %s", s, strings.Join(Formats, ", "))
}

// Write renders r in format f on w.
func Write(w io.Writer, r *Result, f Format) error {
	switch f {
	case FormatText:
		return WriteText(w, r)
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatMarkdown:
		return WriteMarkdown(w, r)
	}
	return fmt.Errorf("unknown report format %q", f)
}

// Number is a float that encodes NaN and ±Inf (an interval too wide for
// the samples) as JSON null instead of failing.
type Number float64

func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = Number(f)
	return err
}

// Interval is an estimate with its confidence interval in a document.
type Interval struct {
	Center Number `json:"center"`
	Lo     Number `json:"lo"`
	Hi     Number `json:"hi"`
}

func interval(e Estimate) Interval {
	return Interval{Number(e.Center), Number(e.Lo), Number(e.Hi)}
}

// Document is the JSON report: the verdict first, then what it rests on.
type Document struct {
	Schema string `json:"schema"`
	// FnoptVersion is the fnopt that measured (internal/version).
	FnoptVersion string   `json:"fnopt_version"`
	Pass         bool     `json:"pass"`
	ExitCode     int      `json:"exit_code"`
	Failures     []string `json:"failures"`
	Warnings     []string `json:"warnings"`
	// Verdict is pass, fail or could-not-tell; CouldNotTell says why a
	// run could not tell, Strict whether that is exit status 2.
	Verdict      Verdict  `json:"verdict"`
	CouldNotTell []string `json:"could_not_tell"`
	Strict       bool     `json:"strict"`
	// Sampling is how the samples were taken.
	Sampling   SamplingDoc `json:"sampling"`
	Before     SideDoc     `json:"before"`
	After      SideDoc     `json:"after"`
	Thresholds Thresholds  `json:"thresholds"`
	Confidence float64     `json:"confidence"`
	Metrics    []MetricDoc `json:"metrics"`
	Sizes      []SizeDoc   `json:"sizes"`
	Budgets    []BudgetDoc `json:"budgets"`
}

// SideDoc describes one side of the comparison.
type SideDoc struct {
	Label   string `json:"label"`
	Samples int    `json:"samples"`
}

// MetricDoc is one metric's comparison. Times are in ms, RSS in bytes.
type MetricDoc struct {
	Metric verify.Metric `json:"metric"`
	Gated  bool          `json:"gated"`
	Change Change        `json:"change"`
	N1     int           `json:"n_before"`
	N2     int           `json:"n_after"`
	U      float64       `json:"u"`
	P      Number        `json:"p"`
	// Before and After are medians with distribution-free intervals.
	Before    Interval `json:"before_p50"`
	After     Interval `json:"after_p50"`
	P90Before Number   `json:"before_p90"`
	P90After  Number   `json:"after_p90"`
	// Shift is the Hodges-Lehmann estimate of after − before; ShiftPct
	// the same relative to the median before.
	Shift    Interval `json:"shift"`
	ShiftPct Interval `json:"shift_pct"`
	// Threshold is the smallest shift that is a regression, in the
	// metric's unit and in percent of the median before.
	Threshold    Number `json:"threshold"`
	ThresholdPct Number `json:"threshold_pct"`
	// MDE80 and MDE95 are the minimum detectable effects at 80% and 95%
	// power, in the metric's unit and in percent (null: no shift could be
	// significant); MDEAlpha is the level they are for.
	MDE80    Number `json:"mde80"`
	MDE80Pct Number `json:"mde80_pct"`
	MDE95    Number `json:"mde95"`
	MDE95Pct Number `json:"mde95_pct"`
	MDEAlpha Number `json:"mde_alpha"`
}

// SamplingDoc is how a gate run took its samples.
type SamplingDoc struct {
	// Mode is "fixed" (a given number per side) or "auto" (adaptive).
	Mode string `json:"mode"`
	// MaxSamples is the cap per side of an adaptive run.
	MaxSamples int `json:"max_samples,omitempty"`
	// Spending names the alpha-spending function of an adaptive run.
	Spending string `json:"spending,omitempty"`
	// Stop is why sampling stopped: "fixed", or the last look's stop.
	Stop Stop `json:"stop"`
	// Looks are an adaptive run's looks at the gated metric, in order.
	Looks []LookDoc `json:"looks"`
}

// LookDoc is one look of an adaptive run (see Look).
type LookDoc struct {
	N1        int      `json:"n_before"`
	N2        int      `json:"n_after"`
	Boundary  Number   `json:"boundary"`
	Alpha     Number   `json:"alpha"`
	Shift     Interval `json:"shift"`
	Threshold Number   `json:"threshold"`
	MDE80     Number   `json:"mde80"`
	Stop      Stop     `json:"stop"`
}

// StopFixed is the stop of a run that took a fixed number of samples.
const StopFixed Stop = "fixed"

// spendingName names the spending function in reports.
const spendingName = "lan-demets-pocock"

func samplingDoc(s Sampling) SamplingDoc {
	d := SamplingDoc{Mode: "fixed", Stop: StopFixed, Looks: []LookDoc{}}
	if !s.Adaptive {
		return d
	}
	d.Mode, d.MaxSamples, d.Spending = "auto", s.MaxSamples, spendingName
	for _, l := range s.Looks {
		d.Looks = append(d.Looks, LookDoc{
			N1: l.N1, N2: l.N2, Boundary: Number(l.Boundary), Alpha: Number(l.Alpha),
			Shift: interval(l.Shift), Threshold: Number(l.Threshold), MDE80: Number(l.MDE.Power80), Stop: l.Stop,
		})
	}
	if l := s.Last(); l != nil {
		d.Stop = l.Stop
	}
	return d
}

// SizeDoc is one artifact size comparison.
type SizeDoc struct {
	Name      string  `json:"name"`
	Before    int64   `json:"before_bytes"`
	After     int64   `json:"after_bytes"`
	GrowthPct float64 `json:"growth_pct"`
	Exceeded  bool    `json:"exceeded"`
}

// BudgetDoc is one budget check.
type BudgetDoc struct {
	Name     string  `json:"name"`
	Limit    float64 `json:"limit"`
	Value    float64 `json:"value"`
	Exceeded bool    `json:"exceeded"`
}

// NewDocument converts a result into the JSON report.
func NewDocument(r *Result) *Document {
	d := &Document{
		Schema:       ReportSchema,
		FnoptVersion: version.Get().Version,
		Pass:         r.Pass(),
		ExitCode:     r.ExitCode(),
		Failures:     nonNil(r.Failures()),
		Warnings:     nonNil(r.Warnings),
		Verdict:      r.Verdict(),
		CouldNotTell: nonNil(r.CouldNotTell()),
		Strict:       r.Strict,
		Sampling:     samplingDoc(r.Sampling),
		Before:       SideDoc{Label: r.Before.Label, Samples: len(r.Before.Samples)},
		After:        SideDoc{Label: r.After.Label, Samples: len(r.After.Samples)},
		Thresholds:   r.Thresholds,
		Confidence:   r.Confidence,
		Metrics:      []MetricDoc{},
		Sizes:        []SizeDoc{},
		Budgets:      []BudgetDoc{},
	}
	for _, m := range r.Metrics {
		c := m.Comparison
		d.Metrics = append(d.Metrics, MetricDoc{
			Metric: m.Metric, Gated: m.Gated, Change: m.Change,
			N1: c.N1, N2: c.N2, U: c.U, P: Number(c.P),
			Before: interval(c.Before), After: interval(c.After),
			P90Before: Number(m.P90Before), P90After: Number(m.P90After),
			Shift: interval(c.Shift), ShiftPct: interval(c.ShiftPct()),
			Threshold: Number(m.Threshold), ThresholdPct: Number(m.pct(m.Threshold)),
			MDE80: Number(m.MDE.Power80), MDE80Pct: Number(m.pct(m.MDE.Power80)),
			MDE95: Number(m.MDE.Power95), MDE95Pct: Number(m.pct(m.MDE.Power95)),
			MDEAlpha: Number(m.MDE.Alpha),
		})
	}
	for _, s := range r.Sizes {
		d.Sizes = append(d.Sizes, SizeDoc(s))
	}
	for _, b := range r.Budgets {
		d.Budgets = append(d.Budgets, BudgetDoc(b))
	}
	return d
}

// WriteJSON writes the versioned JSON report.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // keep "p<0.001" readable; this is not HTML
	if err := enc.Encode(NewDocument(r)); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// formatValue renders a metric's value with its unit.
func formatValue(m verify.Metric, v float64) string { return formatNumber(m, v, "") }

// formatDelta renders a signed difference with its unit.
func formatDelta(m verify.Metric, v float64) string { return formatNumber(m, v, "+") }

// formatNumber renders v with m's unit; sign "+" always shows the sign.
func formatNumber(m verify.Metric, v float64, sign string) string {
	switch {
	case math.IsInf(v, -1):
		return "−∞"
	case math.IsInf(v, 1):
		return "+∞"
	case math.IsNaN(v):
		return "?"
	case m == verify.MetricMaxRSS:
		return fmt.Sprintf("%"+sign+".1f MiB", v/(1<<20))
	}
	return fmt.Sprintf("%"+sign+".2f ms", v)
}

// formatPct renders a signed percentage.
func formatPct(v float64) string {
	switch {
	case math.IsInf(v, -1):
		return "−∞"
	case math.IsInf(v, 1):
		return "+∞"
	case math.IsNaN(v):
		return "?"
	}
	return fmt.Sprintf("%+.1f%%", v)
}

// formatP renders a p-value the way people read them.
func formatP(p float64) string {
	if p < 0.001 {
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", p)
}

// pText is a p-value in a sentence: "p=0.012" or "p<0.001".
func pText(p float64) string {
	if p < 0.001 {
		return "p<0.001"
	}
	return "p=" + formatP(p)
}

// changeWord is how a change in metric m reads in a table.
func changeWord(m verify.Metric, c Change) string {
	more, less := "slower", "faster"
	if m == verify.MetricMaxRSS {
		more, less = "larger", "smaller"
	}
	switch c {
	case ChangeNone:
		return "no change"
	case ChangeSlower:
		return more + ", within threshold"
	case ChangeFaster:
		return less + ", within threshold"
	}
	return string(c)
}
