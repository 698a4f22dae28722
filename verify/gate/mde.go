package gate

import (
	"math"
	"slices"
)

// Powers at which every gate run reports its minimum detectable effect.
const (
	PowerMDE     = 0.80 // the conventional power; "could not tell" is judged at it
	PowerMDEHigh = 0.95
)

// MDE is the minimum detectable effect of a comparison: the smallest true
// shift its rank test would have found significant with a given power.
//
// It is computed from the samples' own spread, with no assumption about
// their distribution. The Hodges-Lehmann shift is asymptotically normal
// with standard error SE = τ·√(1/n1 + 1/n2), τ = 1/(√12·∫f²) (Hodges &
// Lehmann, "Estimates of location based on rank tests", Ann. Math.
// Statist. 34, 1963), and Moses's interval at the test's level 1 − α is
// then HL ± z_{1−α/2}·SE. So SE is read off that interval's length, as
// rank-based inference estimates τ from the data (Koul, Sievers & McKean,
// Scand. J. Statist. 14, 1987; Hettmansperger & McKean, Robust
// Nonparametric Statistical Methods, 2nd ed., 2011, §3.7). A true shift Δ
// is significant with probability about Φ(Δ/SE − z_{1−α/2}), so
// MDE = (z_{1−α/2} + z_power)·SE: Noether's power approximation for the
// Mann-Whitney test (JASA 82, 1987) in the shift model. τ carries the
// rank test's asymptotic relative efficiency against the t-test,
// σ²/τ² = 12σ²(∫f²)² (Hodges & Lehmann, Ann. Math. Statist. 27, 1956):
// for normal samples τ = σ·√(π/3) ≈ 1.023σ; for heavy-tailed cold-start
// times τ < σ, where a t-test's MDE from the standard deviation would
// overstate what the gate can see.
type MDE struct {
	// Power80 and Power95 are the smallest shifts, in the metric's unit,
	// found significant with 80% and 95% probability. They are +Inf when
	// the samples are too few for any shift to be significant.
	Power80 float64
	Power95 float64
	// SE is the estimated standard error of the Hodges-Lehmann shift.
	SE float64
	// Alpha is the two-sided level of the test the MDE is for: the
	// gate's alpha, or the nominal level of a sequential run's last look.
	Alpha float64
}

// MinimumDetectable estimates the minimum detectable effect of the
// two-sided Mann-Whitney test at level alpha between before and after
// (see MDE). The inputs are not modified.
func MinimumDetectable(before, after []float64, alpha float64) MDE {
	if len(before) == 0 || len(after) == 0 || !(alpha > 0 && alpha < 1) {
		inf := math.Inf(1)
		return MDE{Power80: inf, Power95: inf, SE: inf, Alpha: alpha}
	}
	x, y := slices.Clone(before), slices.Clone(after)
	slices.Sort(x)
	slices.Sort(y)
	return mdeOf(differences(x, y), len(x), len(y), alpha)
}

// mdeOf is MinimumDetectable from the sorted pairwise differences.
func mdeOf(d []float64, n1, n2 int, alpha float64) MDE {
	return mdeFromInterval(mosesInterval(d, n1, n2, 1-alpha), alpha)
}

// mdeFromInterval is the MDE of the test at level alpha from Moses's
// interval at level 1 − alpha, whose half-width is z_{1−α/2}·SE.
func mdeFromInterval(ci Estimate, alpha float64) MDE {
	z := zTwoSided(alpha)
	se := (ci.Hi - ci.Lo) / (2 * z) // +Inf when the interval is unbounded
	return MDE{
		Power80: (z + zPower(PowerMDE)) * se,
		Power95: (z + zPower(PowerMDEHigh)) * se,
		SE:      se,
		Alpha:   alpha,
	}
}

// zPower is z_power, the standard normal quantile at the power.
func zPower(power float64) float64 { return stdNormalInv(power) }

// RegressionThreshold is the smallest shift of a time metric, in ms, that
// can fail the gate when the median before is medianBefore: a regression
// must exceed both MaxRegressionPct of it and MinDeltaMs.
func (t Thresholds) RegressionThreshold(medianBefore float64) float64 {
	return math.Max(t.MaxRegressionPct/100*medianBefore, t.MinDeltaMs)
}
