package gate

import (
	"errors"
	"math"
	"testing"
)

// Reference values in this file come from R 4.2.2 (Debian's r-base-core),
// an implementation independent of go-moremath, or are worked out by hand
// in the comments.

// Hollander & Wolfe's example, used in R's ?wilcox.test:
// x: permeability constants at 12 to 26 weeks, y: at term.
var (
	hwX = []float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46}
	hwY = []float64{1.15, 0.88, 0.90, 0.74, 1.21}
)

// lnA and lnB: set.seed(1); a <- round(rlnorm(60, log(3), 0.1), 4);
// b <- round(rlnorm(60, log(3.3), 0.1), 4) in R; no ties. 60 > 50, so the
// test uses the normal approximation with continuity correction.
var lnA = []float64{
	2.8178, 3.0556, 2.7595, 3.5189, 3.1005, 2.7637, 3.1499, 3.2299, 3.1778, 2.9098, 3.4896, 3.1193,
	2.8193, 2.4040, 3.3572, 2.9866, 2.9951, 3.2969, 3.2568, 3.1836, 3.2888, 3.2441, 3.0225, 2.4588,
	3.1918, 2.9832, 2.9536, 2.5897, 2.8599, 3.1280, 3.4366, 2.9693, 3.1186, 2.9839, 2.6141, 2.8780,
	2.8840, 2.9823, 3.3488, 3.2379, 2.9510, 2.9249, 3.2165, 3.1717, 2.8003, 2.7951, 3.1114, 3.2397,
	2.9665, 3.2763, 3.1218, 2.8219, 3.1041, 2.6796, 3.4622, 3.6570, 2.8918, 2.7026, 3.1759, 2.9598,
}
var lnB = []float64{
	4.1958, 3.2871, 3.5356, 3.3093, 3.0636, 3.3629, 2.7550, 3.8209, 3.3510, 4.1008, 3.4607, 3.0738,
	3.5078, 3.0057, 2.9112, 3.3976, 3.1569, 3.3004, 3.3246, 3.1111, 3.1176, 3.2557, 3.7126, 2.8337,
	3.5019, 3.4117, 3.6701, 3.2011, 3.4244, 3.3893, 3.1257, 3.7237, 3.7060, 3.5394, 3.8675, 3.4895,
	2.9045, 3.1161, 2.9196, 3.1474, 3.1015, 3.3139, 3.0127, 3.3526, 3.0909, 3.9379, 3.5452, 3.6145,
	3.4292, 3.9045, 3.0967, 3.1511, 3.8082, 3.0921, 3.2323, 3.1729, 3.1961, 3.2092, 3.4672, 3.2420,
}

func TestCompareKnownValues(t *testing.T) {
	tests := []struct {
		name          string
		before, after []float64
		u, p          float64
		shift         Estimate
		before50      Estimate
	}{
		{
			// wilcox.test(y, x, conf.int=TRUE): W = 15, p-value =
			// 0.254412254412254, 95% CI -0.76 0.15, difference in
			// location -0.305 (exact: n ≤ 50, no ties).
			name: "Hollander-Wolfe", before: hwX, after: hwY,
			u: 15, p: 0.254412254412254,
			shift: Estimate{Center: -0.305, Lo: -0.76, Hi: 0.15},
			// median(x) = 1.415. Distribution-free 95% interval for
			// n = 10: Binomial(10, ½) gives P(K ≤ 1) = 11/1024, so
			// [x(2), x(9)] = [0.80, 1.89] covers with 1 − 22/1024.
			before50: Estimate{Center: 1.415, Lo: 0.80, Hi: 1.89},
		},
		{
			// By hand: every after value exceeds every before value,
			// so U = 25 and the exact two-sided p = 2/C(10,5) =
			// 2/252. The 25 differences j−i+5 take 1..9 with counts
			// 1,2,3,4,5,4,3,2,1: median 5. Null P(U ≤ 2) = 4/252 ≤
			// 0.025 < P(U ≤ 3) = 7/252, so Moses's rank is 3 and the
			// interval [d(3), d(23)] = [2, 8]. R: p 0.00793650793650794,
			// conf.int 2 8, estimate 5.
			name: "disjoint", before: []float64{1, 2, 3, 4, 5}, after: []float64{6, 7, 8, 9, 10},
			u: 25, p: 2.0 / 252,
			shift: Estimate{Center: 5, Lo: 2, Hi: 8},
			// n = 5: P(K = 0) = 1/32 > 0.025, so no pair of order
			// statistics reaches 95%: the median's interval is open.
			before50: Estimate{Center: 3, Lo: math.Inf(-1), Hi: math.Inf(1)},
		},
		{
			// wilcox.test(b[1:30], a[1:30], conf.int=TRUE, exact=TRUE):
			// W = 698, p-value = 0.000163640962880624, 95% CI 0.1372
			// 0.4351, difference in location 0.2779.
			name: "lognormal 30", before: lnA[:30], after: lnB[:30],
			u: 698, p: 0.000163640962880624,
			shift: Estimate{Center: 0.2779, Lo: 0.1372, Hi: 0.4351},
			// median(a[1:30]) = 3.07805; pbinom(9, 30, 0.5) = 0.0214 ≤
			// 0.025, so the interval is [a(10), a(21)] = [2.9536, 3.1836].
			before50: Estimate{Center: 3.07805, Lo: 2.9536, Hi: 3.1836},
		},
		{
			// wilcox.test(b, a, conf.int=TRUE, exact=FALSE,
			// correct=TRUE): W = 2769, p-value = 3.7092006300702e-07.
			// R's large-sample interval inverts the corrected normal
			// statistic numerically; Moses's closed form checked here
			// is, in R: d <- sort(outer(b, a, "-")); k <- floor(1800 −
			// qnorm(0.975)·sqrt(3600·121/12)) = 1426; median(d) =
			// 0.27915, c(d[k], d[3601−k]) = 0.1811 0.3856 (R's own:
			// 0.18110 0.38543).
			name: "lognormal 60", before: lnA, after: lnB,
			u: 2769, p: 3.7092006300702e-07,
			shift:    Estimate{Center: 0.27915, Lo: 0.1811, Hi: 0.3856},
			before50: Estimate{Center: 3.03905, Lo: math.NaN(), Hi: math.NaN()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compare(tt.before, tt.after, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			if c.U != tt.u {
				t.Errorf("U = %v, want %v", c.U, tt.u)
			}
			if !near(c.P, tt.p, 1e-9) {
				t.Errorf("p = %.15g, want %.15g", c.P, tt.p)
			}
			checkEstimate(t, "shift", c.Shift, tt.shift)
			checkEstimate(t, "median before", c.Before, tt.before50)
		})
	}
}

func TestCompareSymmetry(t *testing.T) {
	// Swapping the sides negates the shift and mirrors its interval;
	// p-values are two-sided so they do not change.
	ab, err := Compare(lnA[:30], lnB[:30], 0.95)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := Compare(lnB[:30], lnA[:30], 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if ab.P != ba.P || ab.U != float64(30*30)-ba.U {
		t.Errorf("swap: p %v/%v, U %v/%v", ab.P, ba.P, ab.U, ba.U)
	}
	checkEstimate(t, "mirrored shift", ba.Shift, Estimate{Center: -ab.Shift.Center, Lo: -ab.Shift.Hi, Hi: -ab.Shift.Lo})
}

func TestCompareShiftPct(t *testing.T) {
	c, err := Compare([]float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	// Median before is 3; shift 5 [2, 8] → 166.7% [66.7%, 266.7%].
	checkEstimate(t, "pct", c.ShiftPct(), Estimate{Center: 500.0 / 3, Lo: 200.0 / 3, Hi: 800.0 / 3})
}

func TestCompareIdentical(t *testing.T) {
	// All values equal: the rank test has nothing to rank; the gate
	// must read that as "no change", not as an error.
	same := []float64{2, 2, 2, 2, 2, 2}
	c, err := Compare(same, same, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if c.P != 1 || c.Shift.Center != 0 {
		t.Errorf("identical samples: p = %v, shift = %v; want 1 and 0", c.P, c.Shift.Center)
	}
}

func TestCompareErrors(t *testing.T) {
	five := []float64{1, 2, 3, 4, 5}
	tests := []struct {
		name          string
		before, after []float64
		confidence    float64
		tooFew        bool
	}{
		{"four before", []float64{1, 2, 3, 4}, five, 0.95, true},
		{"none after", five, nil, 0.95, true},
		{"NaN", five, []float64{1, 2, math.NaN(), 4, 5}, 0.95, false},
		{"Inf", []float64{1, 2, math.Inf(1), 4, 5}, five, 0.95, false},
		{"confidence 1", five, five, 1, false},
		{"confidence negative", five, five, -0.5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compare(tt.before, tt.after, tt.confidence)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrTooFewSamples); got != tt.tooFew {
				t.Errorf("errors.Is(ErrTooFewSamples) = %v for %v", got, err)
			}
		})
	}
}

func TestMosesRankNormalMatchesExactNearLimit(t *testing.T) {
	// At n = 50 both methods apply; the normal approximation must be
	// within one rank of the exact one or the interval would jump when
	// the sample size crosses exactLimit.
	exact := mosesRank(50, 50, 0.95)
	m := 2500.0
	approx := int(math.Floor(m/2 - 1.959963984540054*math.Sqrt(m*101/12)))
	if d := exact - approx; d < -1 || d > 1 {
		t.Errorf("exact rank %d, normal approximation %d", exact, approx)
	}
}

func TestQuantile(t *testing.T) {
	// R: quantile(x, 0.9, type=7) = 1.892; median(x) = 1.415.
	if got := Quantile(hwX, 0.9); !near(got, 1.892, 1e-12) {
		t.Errorf("p90 = %v, want 1.892", got)
	}
	if got := Quantile(hwX, 0.5); !near(got, 1.415, 1e-12) {
		t.Errorf("p50 = %v, want 1.415", got)
	}
	if got := Quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("empty: %v, want NaN", got)
	}
}

// checkEstimate compares want's finite fields (NaN = not checked).
func checkEstimate(t *testing.T, what string, got, want Estimate) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want float64
	}{{"center", got.Center, want.Center}, {"lo", got.Lo, want.Lo}, {"hi", got.Hi, want.Hi}} {
		if math.IsNaN(f.want) {
			continue
		}
		if f.got != f.want && !near(f.got, f.want, 1e-9) {
			t.Errorf("%s %s = %.10g, want %.10g", what, f.name, f.got, f.want)
		}
	}
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b))
}
