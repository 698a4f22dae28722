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
	// MaxRSSBytes is the process's peak resident set size; 0 when it
	// could not be read (the process had ended before it was, so its
	// memory was gone). 0 is a missing figure, never a measured one: it
	// is left out of JSON and of every statistic (Values).
	MaxRSSBytes int64 `json:"max_rss_bytes,omitempty"`
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
// invocations contribute all their values; a sample whose figure is
// missing (peak RSS not read) contributes none, so that no summary counts
// it as zero: compare len(Values) with the samples to tell (Missing).
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
			if s.MaxRSSBytes > 0 {
				out = append(out, float64(s.MaxRSSBytes))
			}
		}
	}
	return out
}

// Missing counts the samples that lack metric m's figure. Only peak RSS
// can be missing; the times of a sample are always measured.
func Missing(samples []Sample, m Metric) int {
	if m != MetricMaxRSS {
		return 0
	}
	n := 0
	for _, s := range samples {
		if s.MaxRSSBytes <= 0 {
			n++
		}
	}
	return n
}
