// Package verify measures how a Lambda function starts: it runs the
// function as Lambda runs a custom runtime, against an in-process Runtime
// API emulator, and records each cold start.
package verify

// Sample is one cold start: a fresh process taken from exec to its first
// answer, then kept for the warm invocations.
type Sample struct {
	// InitMs is from process start until its first GET .../invocation/next.
	InitMs float64 `json:"init_ms"`
	// FirstInvokeMs is from the event being handed over until the response.
	FirstInvokeMs float64 `json:"first_invoke_ms"`
	// ColdStartMs is from process start until the first response.
	ColdStartMs float64 `json:"cold_start_ms"`
	// WarmMs are the further invocations on the same process (--warm K).
	WarmMs []float64 `json:"warm_ms,omitempty"`
	// MaxRSSBytes is the process's peak resident set size.
	MaxRSSBytes int64 `json:"max_rss_bytes"`
}

// Metric names a per-sample figure, as used in reports and baselines.
type Metric string

const (
	MetricInit        Metric = "init_ms"
	MetricFirstInvoke Metric = "first_invoke_ms"
	MetricColdStart   Metric = "cold_start_ms"
	MetricWarmInvoke  Metric = "warm_invoke_ms"
	MetricMaxRSS      Metric = "max_rss_bytes"
)

// Values extracts one metric from every sample, in sample order. Warm
// invocations contribute all their values.
func Values(samples []Sample, m Metric) []float64 {
	var out []float64
	for _, s := range samples {
		switch m {
		case MetricInit:
			out = append(out, s.InitMs)
		case MetricFirstInvoke:
			out = append(out, s.FirstInvokeMs)
		case MetricColdStart:
			out = append(out, s.ColdStartMs)
		case MetricWarmInvoke:
			out = append(out, s.WarmMs...)
		case MetricMaxRSS:
			out = append(out, float64(s.MaxRSSBytes))
		}
	}
	return out
}
