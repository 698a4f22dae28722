// Package stats summarises measured samples: the quantiles and extremes a
// report shows and a confidence interval for the median.
package stats

import (
	"encoding/json"
	"math"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Confidence is the level of the reported interval.
const Confidence = 0.95

// Summary describes one metric's samples. CILow and CIHigh bound the
// median at the Confidence level without assuming any distribution (order
// statistics, as benchstat does); they are nil when there are too few
// samples for such an interval (fewer than 6 at 95%).
type Summary struct {
	N      int      `json:"n"`
	P50    float64  `json:"p50"`
	P90    float64  `json:"p90"`
	P99    float64  `json:"p99"`
	Min    float64  `json:"min"`
	Max    float64  `json:"max"`
	Mean   float64  `json:"mean"`
	CILow  *float64 `json:"ci_low"`
	CIHigh *float64 `json:"ci_high"`
}

// MarshalJSON writes the summary of no values (every figure missing) with
// its figures null rather than zero: a missing figure is never a 0.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary // without this method
	if s.N > 0 {
		return json.Marshal(plain(s))
	}
	return json.Marshal(struct {
		N      int      `json:"n"`
		P50    *float64 `json:"p50"`
		P90    *float64 `json:"p90"`
		P99    *float64 `json:"p99"`
		Min    *float64 `json:"min"`
		Max    *float64 `json:"max"`
		Mean   *float64 `json:"mean"`
		CILow  *float64 `json:"ci_low"`
		CIHigh *float64 `json:"ci_high"`
	}{})
}

// Summarize computes the summary of values. Quantiles interpolate linearly
// between order statistics (R's default, type 7). An empty input gives the
// zero Summary.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	out := Summary{
		N:    len(s),
		P50:  Quantile(s, 0.5),
		P90:  Quantile(s, 0.9),
		P99:  Quantile(s, 0.99),
		Min:  s[0],
		Max:  s[len(s)-1],
		Mean: sum / float64(len(s)),
	}
	ci := benchmath.AssumeNothing.Summary(benchmath.NewSample(s, &benchmath.DefaultThresholds), Confidence)
	if !math.IsInf(ci.Lo, 0) && !math.IsInf(ci.Hi, 0) {
		lo, hi := ci.Lo, ci.Hi
		out.CILow, out.CIHigh = &lo, &hi
	}
	return out
}

// Quantile is the q-quantile (0 ≤ q ≤ 1) of sorted values, R's type 7:
// h = (n-1)q, interpolated between the order statistics around h.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := float64(len(sorted)-1) * q
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}
