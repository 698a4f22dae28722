package gate

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchmath"

	fnstats "github.com/fnopt/fnopt/verify/stats"
)

// MinSamples is the fewest samples per side the gate accepts. With 5
// against 5 the smallest two-sided Mann-Whitney p-value is 2/252 ≈ 0.008,
// so a difference can be significant at alpha 0.05 at all; fewer samples
// could never fail a build and would give false comfort.
const MinSamples = 5

// Comparison is the statistical comparison of two sets of samples of one
// metric: before (the baseline or base revision) and after (the change).
type Comparison struct {
	N1, N2 int
	// U is the Mann-Whitney U statistic of after against before (pairs
	// where after > before, ties counting one half); P its two-sided
	// p-value (exact for small samples, normal approximation with tie and
	// continuity correction otherwise, as benchstat).
	U, P float64
	// Before and After are the medians with their distribution-free
	// confidence intervals (order statistics, benchmath.AssumeNothing).
	Before, After Estimate
	// Shift is the Hodges-Lehmann estimate of after − before: the median
	// of all pairwise differences. Its interval is Moses's, derived from
	// the null distribution of U, so it agrees with the test: it excludes
	// zero about when P < 1 − Confidence.
	Shift Estimate
	// Confidence is the nominal level of every interval here (e.g. 0.95).
	Confidence float64
}

// Estimate is a point estimate with a confidence interval [Lo, Hi]. Lo or
// Hi are infinite when the samples are too few for the level asked.
type Estimate struct {
	Center float64 `json:"center"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
}

// ShiftPct is the Hodges-Lehmann shift relative to the median before, in
// percent, with its interval scaled the same way. The scaling ignores the
// uncertainty of the median before, which is small next to that of the
// shift for the sample sizes the gate uses.
func (c *Comparison) ShiftPct() Estimate {
	m := c.Before.Center
	if m == 0 {
		return Estimate{Center: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	return Estimate{Center: 100 * c.Shift.Center / m, Lo: 100 * c.Shift.Lo / m, Hi: 100 * c.Shift.Hi / m}
}

// ErrTooFewSamples is returned by Compare when a side has fewer than
// MinSamples values.
var ErrTooFewSamples = errors.New("too few samples")

// Compare runs the Mann-Whitney U test on before and after and estimates
// the shift between them with intervals at the given confidence (0.95
// when zero). The inputs are not modified.
func Compare(before, after []float64, confidence float64) (*Comparison, error) {
	if confidence == 0 {
		confidence = 0.95
	}
	if confidence <= 0 || confidence >= 1 {
		return nil, fmt.Errorf("confidence %v is not between 0 and 1", confidence)
	}
	if len(before) < MinSamples || len(after) < MinSamples {
		return nil, fmt.Errorf("%w: %d before and %d after, need at least %d each", ErrTooFewSamples, len(before), len(after), MinSamples)
	}
	for _, v := range slices.Concat(before, after) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sample value %v is not a finite number", v)
		}
	}
	x := slices.Clone(before)
	y := slices.Clone(after)
	slices.Sort(x)
	slices.Sort(y)

	c := &Comparison{N1: len(x), N2: len(y), Confidence: confidence}
	// after first: U counts pairs where after is larger, so U > n1·n2/2
	// means "slower". The two-sided p-value does not depend on the order.
	res, err := stats.MannWhitneyUTest(y, x, stats.LocationDiffers)
	switch {
	case errors.Is(err, stats.ErrSamplesEqual):
		// Every value identical on both sides: no evidence of a change.
		c.U, c.P = float64(c.N1*c.N2)/2, 1
	case err != nil:
		return nil, fmt.Errorf("running the Mann-Whitney U test: %w", err)
	default:
		c.U, c.P = res.U, res.P
	}

	c.Before = median(x, confidence)
	c.After = median(y, confidence)
	c.Shift = hodgesLehmann(x, y, confidence)
	return c, nil
}

// median is the sample median with benchmath's distribution-free interval.
func median(sorted []float64, confidence float64) Estimate {
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(slices.Clone(sorted), &benchmath.DefaultThresholds), confidence)
	return Estimate{Center: s.Center, Lo: s.Lo, Hi: s.Hi}
}

// hodgesLehmann returns the median of the n1·n2 differences y_j − x_i and
// Moses's confidence interval: the differences of rank k and n1·n2+1−k,
// where k−1 is the largest u with P(U ≤ u) ≤ (1−confidence)/2 under the
// null hypothesis (the rank R's wilcox.test uses with conf.int = TRUE).
func hodgesLehmann(x, y []float64, confidence float64) Estimate {
	return mosesInterval(differences(x, y), len(x), len(y), confidence)
}

// differences are the n1·n2 differences y_j − x_i, sorted.
func differences(x, y []float64) []float64 {
	d := make([]float64, 0, len(x)*len(y))
	for _, b := range x {
		for _, a := range y {
			d = append(d, a-b)
		}
	}
	slices.Sort(d)
	return d
}

// mosesInterval is the Hodges-Lehmann estimate (the median of the sorted
// differences d of samples of n1 and n2 values) with Moses's interval at
// the given confidence; its bounds are infinite when the samples are too
// few for that level.
func mosesInterval(d []float64, n1, n2 int, confidence float64) Estimate {
	e := Estimate{Center: fnstats.Quantile(d, 0.5), Lo: math.Inf(-1), Hi: math.Inf(1)}
	if k := mosesRank(n1, n2, confidence); k >= 1 {
		e.Lo, e.Hi = d[k-1], d[len(d)-k]
	}
	return e
}

// exactLimit is the largest sample size for which the exact null
// distribution of U is used for the interval (as go-moremath's test).
const exactLimit = 50

// mosesRank is the 1-based rank k of the lower interval bound among the
// sorted differences; 0 when even the extreme differences do not reach
// the confidence asked.
func mosesRank(n1, n2 int, confidence float64) int {
	tail := (1 - confidence) / 2
	if n1 <= exactLimit && n2 <= exactLimit {
		dist := stats.UDist{N1: n1, N2: n2}
		// Smallest q with P(U ≤ q) > tail, by bisection on the CDF
		// (monotone): then P(U ≤ q−1) ≤ tail and k = q.
		lo, hi := 0, n1*n2/2
		if dist.CDF(0) > tail {
			return 0
		}
		for lo+1 < hi {
			mid := (lo + hi) / 2
			if dist.CDF(float64(mid)) > tail {
				hi = mid
			} else {
				lo = mid
			}
		}
		return hi
	}
	// Large samples: U is close to normal with mean n1·n2/2 and variance
	// n1·n2·(n1+n2+1)/12 (Hollander & Wolfe, Nonparametric Statistical
	// Methods, §4.3).
	m := float64(n1 * n2)
	z := stats.StdNormal.InvCDF(1 - tail)
	k := int(math.Floor(m/2 - z*math.Sqrt(m*float64(n1+n2+1)/12)))
	if k < 1 {
		return 0
	}
	return k
}

// Quantile is the q-quantile (0 ≤ q ≤ 1) of unsorted values, R's type 7
// (verify/stats, so the gate and verify's tables agree).
func Quantile(values []float64, q float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	return fnstats.Quantile(s, q)
}
