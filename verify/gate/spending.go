package gate

import (
	"errors"
	"fmt"
	"math"

	"github.com/aclements/go-moremath/stats"
)

// Group-sequential boundaries by alpha spending (Lan & DeMets, 1983).
//
// An adaptive gate run looks at its samples several times and may stop at
// any look. Testing each look at the plain level alpha would raise the
// chance of a false alarm with every look (five looks at 0.05 reject a
// true null hypothesis about 14% of the time: Armitage, McPherson & Rowe,
// 1969). A spending function says how much of alpha may have been used up
// by each information fraction t (the share of the final precision reached
// so far); the boundary of each look is the critical value that spends
// exactly the increment, given that the run did not stop before. The
// standardised statistics of the looks are treated as a Brownian motion
// observed at the information fractions (the "canonical joint
// distribution", Jennison & Turnbull, Group Sequential Methods with
// Applications to Clinical Trials, 2000, ch. 3), which the two-sample rank
// statistics and the Hodges-Lehmann estimate follow asymptotically.

// SpendingFunction is an alpha-spending function: how much of the
// two-sided significance level alpha may have been spent by information
// fraction t (0 < t ≤ 1). It increases with t and equals alpha at t = 1.
type SpendingFunction func(alpha, t float64) float64

// PocockSpending is Lan and DeMets's Pocock-type spending function,
// α·ln(1 + (e − 1)·t). Its boundaries are nearly constant across looks,
// as Pocock's (1977) test: it spends early, so a run can stop at an
// early look, and pays with a final boundary a little above z_{1−α/2}.
func PocockSpending(alpha, t float64) float64 {
	t = math.Min(math.Max(t, 0), 1)
	return alpha * math.Log(1+(math.E-1)*t)
}

// OBrienFlemingSpending is Lan and DeMets's O'Brien-Fleming-type
// spending function, 2 − 2Φ(z_{1−α/2}/√t). It spends almost nothing
// early, so its final boundary is close to a single test's, and its
// early boundaries are very wide.
func OBrienFlemingSpending(alpha, t float64) float64 {
	t = math.Min(math.Max(t, 0), 1)
	if t == 0 {
		return 0
	}
	return 2 * upperTail(zTwoSided(alpha)/math.Sqrt(t))
}

// maxBoundary is where the boundaries stop: a standard normal exceeds it
// with probability below 1e-15, so a look that would need a larger
// critical value can stop on nothing at all, and is treated as unbounded.
const maxBoundary = 8

// gridPoints is the number of quadrature points per look of the
// recursive integration; with Simpson's rule the boundaries it gives
// agree with the published ones to the third decimal (spending_test.go).
const gridPoints = 801

// Boundaries returns the two-sided critical values c_k, on the standard
// normal scale, of looks at information fractions t (increasing, the
// last at most 1) under the spending function spend: a run that rejects
// at look k when |Z_k| ≥ c_k, having not rejected before, rejects a true
// null hypothesis with probability spend(alpha, t_k) by look k. A look
// with nothing left to spend gets +Inf.
//
// The probabilities are computed by recursive numerical integration of
// the density of the score statistic over the continuation region
// (Armitage, McPherson & Rowe, 1969; Jennison & Turnbull, 2000, ch. 19).
func Boundaries(spend SpendingFunction, alpha float64, t []float64) ([]float64, error) {
	if !(alpha > 0 && alpha < 1) {
		return nil, fmt.Errorf("alpha %v must be between 0 and 1", alpha)
	}
	if err := checkFractions(t); err != nil {
		return nil, err
	}
	c := make([]float64, len(t))
	var g *subDensity
	spent := 0.0
	for k := range t {
		target := spend(alpha, t[k]) - spent
		if k == 0 {
			c[0] = boundaryFor(target)
			g = firstDensity(t[0], c[0])
		} else {
			c[k] = g.solve(t[k], target)
			g = g.next(t[k], c[k])
		}
		spent = spend(alpha, t[k])
	}
	return c, nil
}

// CrossingProbability is the probability that a standard Brownian motion
// observed at times t (the information fractions) leaves ±c_k·√t_k at some
// look: the false-alarm rate of a group-sequential test with boundaries
// c. It is Boundaries' calculation read the other way, for checking
// boundaries from the literature.
func CrossingProbability(c, t []float64) (float64, error) {
	if len(c) != len(t) {
		return 0, errors.New("one boundary per look")
	}
	if err := checkFractions(t); err != nil {
		return 0, err
	}
	p := 0.0
	var g *subDensity
	for k := range t {
		if k == 0 {
			p = 2 * upperTail(c[0])
			g = firstDensity(t[0], c[0])
			continue
		}
		p += g.cross(t[k], c[k])
		g = g.next(t[k], c[k])
	}
	return p, nil
}

func checkFractions(t []float64) error {
	if len(t) == 0 {
		return errors.New("no looks")
	}
	prev := 0.0
	for _, x := range t {
		if !(x > prev) || x > 1 {
			return fmt.Errorf("information fractions %v must increase within (0, 1]", t)
		}
		prev = x
	}
	return nil
}

// boundaryFor is the critical value of a single look that spends p.
func boundaryFor(p float64) float64 {
	if !(p > 2*upperTail(maxBoundary)) {
		return math.Inf(1)
	}
	return zTwoSided(p)
}

// subDensity is the density of the score statistic S_k = Z_k·√t_k of
// runs that have not stopped by look k, on a grid over the continuation
// region, with Simpson weights folded in: summing w gives the
// probability of still running.
type subDensity struct {
	t float64   // the look's information fraction (the variance of S)
	s []float64 // grid points
	w []float64 // weight × density at each point
}

// firstDensity is S_1 ~ N(0, t) restricted to |S_1| < c·√t.
func firstDensity(t, c float64) *subDensity {
	sd := math.Sqrt(t)
	g := newGrid(t, math.Min(c, maxBoundary)*sd)
	for i, s := range g.s {
		g.w[i] *= normalPDF(s/sd) / sd
	}
	return g
}

// newGrid makes an odd grid of points over [−b, b] with Simpson weights.
func newGrid(t, b float64) *subDensity {
	g := &subDensity{t: t, s: make([]float64, gridPoints), w: make([]float64, gridPoints)}
	h := 2 * b / float64(gridPoints-1)
	for i := range g.s {
		g.s[i] = -b + float64(i)*h
		switch {
		case i == 0 || i == gridPoints-1:
			g.w[i] = h / 3
		case i%2 == 1:
			g.w[i] = 4 * h / 3
		default:
			g.w[i] = 2 * h / 3
		}
	}
	return g
}

// cross is the probability of running to this look and leaving ±c·√t
// there.
func (g *subDensity) cross(t, c float64) float64 {
	if math.IsInf(c, 1) {
		return 0
	}
	sd := math.Sqrt(t - g.t)
	b := c * math.Sqrt(t)
	p := 0.0
	for i, s := range g.s {
		p += g.w[i] * (upperTail((b-s)/sd) + upperTail((b+s)/sd))
	}
	return p
}

// solve finds the boundary c of the look at t that spends target, by
// bisection (crossing falls as c grows).
func (g *subDensity) solve(t, target float64) float64 {
	if !(target > g.cross(t, maxBoundary)) {
		return math.Inf(1)
	}
	lo, hi := 0.0, float64(maxBoundary)
	for range 60 {
		mid := (lo + hi) / 2
		if g.cross(t, mid) > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// next is the density at the look at t of runs that continue past it
// (|S| < c·√t): the convolution of g with the increment N(0, t − g.t).
func (g *subDensity) next(t, c float64) *subDensity {
	sd := math.Sqrt(t - g.t)
	n := newGrid(t, math.Min(c, maxBoundary)*math.Sqrt(t))
	for i, v := range n.s {
		d := 0.0
		for j, s := range g.s {
			d += g.w[j] * normalPDF((v-s)/sd)
		}
		n.w[i] *= d / sd
	}
	return n
}

func normalPDF(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }

// upperTail is 1 − Φ(z), accurate far into the tail.
func upperTail(z float64) float64 { return math.Erfc(z/math.Sqrt2) / 2 }

// zTwoSided is the critical value of a two-sided test at level alpha,
// z_{1−α/2}, computed from the small tail so that tiny levels keep their
// precision.
func zTwoSided(alpha float64) float64 { return -stdNormalInv(alpha / 2) }

// stdNormalInv is Φ⁻¹(p).
func stdNormalInv(p float64) float64 { return stats.StdNormal.InvCDF(p) }
