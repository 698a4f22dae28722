package stats

import (
	"encoding/json"
	"math"
	"testing"
)

func seq(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i + 1)
	}
	return v
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// Expected quantiles are R's quantile(x, type = 7) — the definition in
// Hyndman & Fan (1996), h = (n-1)p + 1 — worked by hand:
//   - 1..10: p50 at h=5.5 → 5.5; p90 at h=9.1 → 9.1; p99 at h=9.91 → 9.91.
//   - {2,4,4,4,5,5,7,9} (Wikipedia's standard-deviation example, mean 5):
//     p50 at h=4.5 → 4.5; p90 at h=7.3 → 7+0.3·2 = 7.6; p99 at h=7.93 → 8.86.
//
// The median intervals are distribution-free order-statistic intervals
// [x(l), x(u)], whose coverage is P(l ≤ B < u) for B ~ Binomial(n, 1/2),
// computed by hand from binomial coefficients (the symmetric ones match
// sign-test tables such as Conover, Practical Nonparametric Statistics,
// table A3): n=30 → [x(10), x(21)] (95.7%); n=10 → [x(2), x(9)]
// (1 - 2·11/1024 = 97.9%); n=6 → [x(1), x(6)] (1 - 2/64 = 96.9%); n=8 →
// the narrowest pair reaching 95% is the asymmetric [x(1), x(7)]
// (1 - (1+8+1)/256 = 96.1%; the symmetric [x(2), x(7)] has only 93.0%);
// with n=5 no pair reaches 95% (best 1 - 2/32 = 93.75%).
func TestSummarize(t *testing.T) {
	tests := []struct {
		name                          string
		in                            []float64
		p50, p90, p99, min, max, mean float64
		ciLow, ciHigh                 float64
		noCI                          bool
	}{
		{name: "1..10", in: seq(10), p50: 5.5, p90: 9.1, p99: 9.91, min: 1, max: 10, mean: 5.5, ciLow: 2, ciHigh: 9},
		{name: "1..30", in: seq(30), p50: 15.5, p90: 27.1, p99: 29.71, min: 1, max: 30, mean: 15.5, ciLow: 10, ciHigh: 21},
		{name: "unsorted with ties", in: []float64{9, 4, 2, 5, 4, 7, 4, 5}, p50: 4.5, p90: 7.6, p99: 8.86, min: 2, max: 9, mean: 5, ciLow: 2, ciHigh: 7},
		{name: "six samples", in: seq(6), p50: 3.5, p90: 5.5, p99: 5.95, min: 1, max: 6, mean: 3.5, ciLow: 1, ciHigh: 6},
		{name: "five samples: no interval", in: seq(5), p50: 3, p90: 4.6, p99: 4.96, min: 1, max: 5, mean: 3, noCI: true},
		{name: "one sample", in: []float64{7}, p50: 7, p90: 7, p99: 7, min: 7, max: 7, mean: 7, noCI: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summarize(tt.in)
			got := []float64{s.P50, s.P90, s.P99, s.Min, s.Max, s.Mean}
			want := []float64{tt.p50, tt.p90, tt.p99, tt.min, tt.max, tt.mean}
			for i := range got {
				if !near(got[i], want[i]) {
					t.Errorf("p50,p90,p99,min,max,mean = %v, want %v", got, want)
					break
				}
			}
			if s.N != len(tt.in) {
				t.Errorf("N = %d", s.N)
			}
			if tt.noCI {
				if s.CILow != nil || s.CIHigh != nil {
					t.Errorf("interval from %d samples", len(tt.in))
				}
				return
			}
			if s.CILow == nil || s.CIHigh == nil || !near(*s.CILow, tt.ciLow) || !near(*s.CIHigh, tt.ciHigh) {
				t.Errorf("CI = %v..%v, want %v..%v", deref(s.CILow), deref(s.CIHigh), tt.ciLow, tt.ciHigh)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestSummarizeEmpty(t *testing.T) {
	if s := Summarize(nil); s.N != 0 || s.CILow != nil {
		t.Errorf("empty summary = %+v", s)
	}
}

// TestSummaryJSON: a summary of no values (every figure missing) has null
// figures, never zeros that read as measurements.
func TestSummaryJSON(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want string
	}{
		{"empty", nil, `{"n":0,"p50":null,"p90":null,"p99":null,"min":null,"max":null,"mean":null,"ci_low":null,"ci_high":null}`},
		{"one", []float64{7}, `{"n":1,"p50":7,"p90":7,"p99":7,"min":7,"max":7,"mean":7,"ci_low":null,"ci_high":null}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(Summarize(tt.in))
		if err != nil || string(b) != tt.want {
			t.Errorf("%s: %s, %v\nwant %s", tt.name, b, err, tt.want)
		}
	}
}
