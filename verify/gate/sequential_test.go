package gate

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aclements/go-moremath/stats"
)

func TestNewPlan(t *testing.T) {
	tests := []struct {
		name      string
		a         Adaptive
		baseline  int
		samples   []int
		fractions []float64
	}{
		// 25 looks of 20 up to 500: information grows with n, so look k
		// has the fraction k/25.
		{"defaults", Adaptive{}, 0, everyBlock(20, 500), evenFractions(25)},
		{"a cap that is not a multiple of the block", Adaptive{MaxSamples: 50, Block: 20}, 0,
			[]int{20, 40, 50}, []float64{0.4, 0.8, 1}},
		{"a cap below the block", Adaptive{MaxSamples: 10, Block: 20}, 0,
			[]int{10}, []float64{1}},
		// Against a baseline of 30 the before side's share of the variance
		// stays: information 1/(1/30 + 1/n), over that at n = 60.
		{"against a fixed baseline", Adaptive{MaxSamples: 60, Block: 30}, 30,
			[]int{30, 60}, []float64{(1 / (1./30 + 1./30)) / (1 / (1./30 + 1./60)), 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPlan(0.05, tt.a, tt.baseline)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Samples, tt.samples) {
				t.Errorf("samples %v, want %v", p.Samples, tt.samples)
			}
			if len(p.Fractions) != len(tt.fractions) || len(p.Bounds) != len(tt.fractions) {
				t.Fatalf("fractions %v, bounds %v, want %d looks", p.Fractions, p.Bounds, len(tt.fractions))
			}
			for i := range p.Fractions {
				if math.Abs(p.Fractions[i]-tt.fractions[i]) > 1e-12 {
					t.Errorf("fractions %v, want %v", p.Fractions, tt.fractions)
					break
				}
			}
		})
	}
	for _, a := range []Adaptive{{MaxSamples: 4}, {MaxSamples: 100, Block: -1}} {
		if _, err := NewPlan(0.05, a, 0); err == nil {
			t.Errorf("%+v: no error", a)
		}
	}
}

// normalScores are n values spread exactly as a normal distribution's
// quantiles, m + σ·Φ⁻¹((i − ½)/n): samples without sampling noise, so
// that a look's outcome is known in advance.
func normalScores(n int, m, sigma float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = m + sigma*stats.StdNormal.InvCDF((float64(i)+0.5)/float64(n))
	}
	return out
}

// TestDecide runs the stopping rule on samples whose shift and spread are
// known: a 10 ms median, so the regression threshold is 1 ms. With σ the
// spread and n a side, the standard error of the shift is about
// 1.02·σ·√(2/n), and the repeated interval is that times the look's
// boundary (about 2.4 to 2.5 for the plan here) on each side.
func TestDecide(t *testing.T) {
	plan, err := NewPlan(0.05, Adaptive{MaxSamples: 100, Block: 20}, 0)
	if err != nil {
		t.Fatal(err)
	}
	th := DefaultThresholds()
	tests := []struct {
		name  string
		look  int // 0-based
		sigma float64
		shift float64 // ms
		want  Stop
	}{
		// SE ≈ 0.16 ms at 40 a side: the interval ±0.4 ms lies below 1 ms,
		// and the MDE (≈ 0.53 ms) is within it.
		{"identical, quiet", 1, 0.5, 0, StopWithin},
		// SE ≈ 1.6 ms: nothing can be told at 40 a side.
		{"identical, noisy", 1, 5, 0, StopNone},
		// The same noisy run at the cap: the fixed-sample rule decides.
		{"identical, noisy, at the cap", 4, 5, 0, StopCap},
		{"+30%, quiet", 1, 0.5, 3, StopBeyond},
		// Exactly at the threshold the interval straddles it.
		{"at the threshold", 1, 0.5, 1, StopNone},
		{"at the threshold, at the cap", 4, 0.5, 1, StopCap},
		// A big improvement is below the threshold: stop.
		{"−30%, quiet", 1, 0.5, -3, StopWithin},
		// So is a significant one, even where the MDE (≈ 3.7 ms) is above
		// the threshold: the interval [−10.8, −5.2] rules a regression out.
		{"−80%, noisy", 1, 5, -8, StopWithin},
		// +0.5 ms with SE ≈ 0.32 ms: the interval [−0.3, +1.3] reaches
		// past 1 ms, so sampling goes on.
		{"+5%, spread 1 ms", 1, 1, 0.5, StopNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := plan.Samples[tt.look]
			before := normalScores(n, 10, tt.sigma)
			l, err := plan.Decide(tt.look, before, shifted(before, tt.shift), th)
			if err != nil {
				t.Fatal(err)
			}
			if l.Stop != tt.want {
				t.Errorf("stop %q, want %q (shift %+v, threshold %.3f, MDE80 %.3f, boundary %.3f)", l.Stop, tt.want, l.Shift, l.Threshold, l.MDE.Power80, l.Boundary)
			}
			if l.N1 != n || l.N2 != n || math.Abs(l.Threshold-1) > 0.01 || math.Abs(l.Alpha-2*upperTail(l.Boundary)) > 1e-15 {
				t.Errorf("look %+v", l)
			}
			// The repeated interval holds the estimate and is wider than
			// the gate's 95% interval, because it is at a stricter level.
			c, _ := Compare(before, shifted(before, tt.shift), 0.95)
			if !(l.Shift.Lo <= l.Shift.Center && l.Shift.Center <= l.Shift.Hi) || l.Shift.Hi-l.Shift.Lo <= c.Shift.Hi-c.Shift.Lo {
				t.Errorf("repeated interval %+v, 95%% interval %+v", l.Shift, c.Shift)
			}
		})
	}
	if _, err := plan.Decide(5, normalScores(20, 10, 1), normalScores(20, 10, 1), th); err == nil {
		t.Error("a look beyond the plan: no error")
	}
	if _, err := plan.Decide(0, normalScores(4, 10, 1), normalScores(4, 10, 1), th); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("4 samples: %v, want ErrTooFewSamples", err)
	}
}

// simulate runs an adaptive gate with plan on samples drawn by draw, the
// after side shifted by shift, and returns the look that stopped it and
// whether the gate's verdict is a regression.
func simulate(t *testing.T, plan *Plan, th Thresholds, r *rand.Rand, draw func(*rand.Rand) float64, shift float64) (Look, bool) {
	t.Helper()
	var before, after []float64
	looks, err := sampleAdaptively(plan, th, func(n int) ([]float64, []float64, error) {
		before = append(before, drawN(r, n, 0, draw)...)
		after = append(after, drawN(r, n, shift, draw)...)
		return before, after, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(Input{
		Before:     Side{Samples: initSamples(before)},
		After:      Side{Samples: initSamples(after)},
		Thresholds: th,
		Sampling:   Sampling{Adaptive: true, MaxSamples: plan.Samples[len(plan.Samples)-1], Looks: looks},
	})
	if err != nil {
		t.Fatal(err)
	}
	return looks[len(looks)-1], !res.Pass()
}

// skewed draws cold-start-like times: lognormal around 10 ms, 30% spread.
func skewed(r *rand.Rand) float64 { return 10 * math.Exp(0.3*r.NormFloat64()) }

// TestSequentialFalseAlarmRate checks by simulation that the stopping
// rule keeps the false-alarm rate at alpha over all its looks. With no
// thresholds (0% and 0 ms) the gate's rule is the significance test
// alone, so on identical samples every rejection is a false alarm. The
// same looks each tested at plain alpha reject far more often (about
// 0.107 for three looks at 0.05: Armitage, McPherson & Rowe, JRSS A 132,
// 1969), which shows the simulation can see the difference. More than 50
// samples a side keep the test fast (the normal approximation, not the
// exact distribution of U).
func TestSequentialFalseAlarmRate(t *testing.T) {
	const runs, alpha = 800, 0.05
	plan, err := NewPlan(alpha, Adaptive{MaxSamples: 165, Block: 55}, 0)
	if err != nil {
		t.Fatal(err)
	}
	th := Thresholds{Alpha: alpha}
	r := rand.New(rand.NewPCG(15, 1))
	rejected, naive := 0, 0
	for range runs {
		var before, after []float64
		naiveRejected := false
		looks, err := sampleAdaptively(plan, th, func(n int) ([]float64, []float64, error) {
			before = append(before, drawN(r, n, 0, skewed)...)
			after = append(after, drawN(r, n, 0, skewed)...)
			if u, err := stats.MannWhitneyUTest(before, after, stats.LocationDiffers); err == nil && u.P < alpha {
				naiveRejected = true
			}
			return before, after, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		last := looks[len(looks)-1]
		u, err := stats.MannWhitneyUTest(before, after, stats.LocationDiffers)
		if err != nil {
			t.Fatal(err)
		}
		if last.Stop == StopBeyond || u.P < last.Alpha {
			rejected++
		}
		if naiveRejected {
			naive++
		}
	}
	// Binomial standard error at 0.05 over 800 runs: 0.0077.
	if got := float64(rejected) / runs; got > alpha+3*0.0077 {
		t.Errorf("false-alarm rate %.4f over all looks, want at most %g", got, alpha)
	}
	if got := float64(naive) / runs; got < 0.075 {
		t.Errorf("testing every look at %g rejected %.4f of identical runs; expected about 0.107", alpha, got)
	}
}

// TestSequentialStopping checks by simulation what the rule is for:
// identical builds stop early, a regression near the threshold takes
// longer and is still caught, a large one stops early as a regression.
// Samples are lognormal around 10 ms with a 15% spread (sd 1.5 ms, so
// the shift's standard error is about 1.55·√(2/n) ms); the threshold is 1
// ms (10%); looks every 30 samples a side up to 150, boundaries about 2.4.
// Expected: identical runs stop once the MDE, about 3.3 standard errors,
// is within 1 ms: at 60. +20% stops as soon as 2 − 2.4·SE > 1: at 30 or 60.
// +12% cannot be told from 10% before the cap (that needs SE < 0.08 ms)
// and is caught there when its estimate exceeds 1 ms, Φ(0.2/0.18) ≈ 0.87.
func TestSequentialStopping(t *testing.T) {
	const runs = 40
	plan, err := NewPlan(0.05, Adaptive{MaxSamples: 150, Block: 30}, 0)
	if err != nil {
		t.Fatal(err)
	}
	th := DefaultThresholds()
	draw := func(r *rand.Rand) float64 { return 10 * math.Exp(0.15*r.NormFloat64()) }
	tests := []struct {
		name          string
		shift         float64
		minMedianN    int // median samples a side used, at least
		maxMedianN    int // and at most
		minRegression float64
		maxRegression float64 // share of runs ending as a regression
	}{
		{"identical", 0, 30, 60, 0, 0},
		{"+20%", 2, 30, 60, 0.95, 1},
		{"+12%", 1.2, 150, 150, 0.7, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(15, uint64(i)))
			var ns []float64
			regressions := 0
			for range runs {
				last, regressed := simulate(t, plan, th, r, draw, tt.shift)
				ns = append(ns, float64(last.N2))
				if regressed {
					regressions++
				}
			}
			med := int(Quantile(ns, 0.5))
			share := float64(regressions) / runs
			if med > tt.maxMedianN || med < tt.minMedianN || share < tt.minRegression || share > tt.maxRegression {
				t.Errorf("median %d samples a side (want %d to %d), regression in %.2f of runs (want %.2f to %.2f)",
					med, tt.minMedianN, tt.maxMedianN, share, tt.minRegression, tt.maxRegression)
			}
		})
	}
}

// everyBlock is block, 2·block, ... up to limit (a multiple of block).
func everyBlock(block, limit int) []int {
	var n []int
	for s := block; s <= limit; s += block {
		n = append(n, s)
	}
	return n
}

// evenFractions is 1/k, 2/k, ... 1.
func evenFractions(k int) []float64 {
	f := make([]float64, k)
	for i := range f {
		f[i] = float64(i+1) / float64(k)
	}
	return f
}
