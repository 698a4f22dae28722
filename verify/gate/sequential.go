package gate

import (
	"errors"
	"fmt"
	"math"
)

// Adaptive sampling: the gate measures interleaved blocks and looks at the
// gated metric after each one, stopping as soon as the shift's repeated
// confidence interval lies on one side of the regression threshold, or at
// a cap. docs/gate.md explains the design and why it was chosen.

// Defaults of adaptive sampling.
const (
	// DefaultMaxSamples is the cap per side. A regression 1.2 times the
	// threshold is told from the threshold by the point estimate only when
	// its standard error is at most about an eighth of the threshold,
	// which on a loaded 2-core machine takes 400 or more samples a side;
	// changes far from the threshold stop long before the cap
	// (docs/gate.md).
	DefaultMaxSamples = 500
	// DefaultBlock is the samples per side between looks: enough for each
	// look to add information, few enough that a decided run stops soon
	// after it is decided.
	DefaultBlock = 20
)

// Adaptive says how an adaptive gate run samples.
type Adaptive struct {
	// MaxSamples is the most samples per side (DefaultMaxSamples when 0).
	MaxSamples int
	// Block is the samples per side between looks (DefaultBlock when 0).
	Block int
}

func (a Adaptive) withDefaults() Adaptive {
	if a.MaxSamples == 0 {
		a.MaxSamples = DefaultMaxSamples
	}
	if a.Block == 0 {
		a.Block = DefaultBlock
	}
	return a
}

// Validate rejects a cap or block the rule cannot work with.
func (a Adaptive) Validate() error {
	a = a.withDefaults()
	switch {
	case a.MaxSamples < MinSamples:
		return fmt.Errorf("a cap of %d samples per side is below the gate's minimum of %d", a.MaxSamples, MinSamples)
	case a.Block < 1:
		return fmt.Errorf("a block of %d samples is too few", a.Block)
	}
	return nil
}

// Plan is the schedule of an adaptive run: how many samples each look
// has, and the boundary each look is tested against.
type Plan struct {
	// Alpha is the gate's two-sided significance level, spent over the
	// looks.
	Alpha float64
	// Baseline is the number of before samples when they are a saved
	// baseline that does not grow; 0 when both sides grow together.
	Baseline int
	// Samples are the after samples at each look (and the before samples
	// too, when Baseline is 0). The last is the cap.
	Samples []int
	// Fractions are the information fractions of the looks: the variance
	// of the shift at the cap over its variance at the look.
	Fractions []float64
	// Bounds are the critical values c_k of the looks (standard normal
	// scale; +Inf where nothing is spent yet).
	Bounds []float64
}

// NewPlan lays out the looks of an adaptive run with the gate's alpha:
// every Block samples per side up to MaxSamples. baseline is the size of
// a fixed before side (0 when before is measured along with after).
//
// The boundaries spend alpha with PocockSpending: in this gate the last
// look decides by the point estimate against the threshold, not by
// significance, so a final boundary above z_{1−α/2} costs almost nothing,
// while narrow early intervals let the common case, a change that does
// not touch start-up, stop early (docs/gate.md).
func NewPlan(alpha float64, a Adaptive, baseline int) (*Plan, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	a = a.withDefaults()
	p := &Plan{Alpha: alpha, Baseline: baseline}
	for n := a.Block; ; n += a.Block {
		n = min(n, a.MaxSamples)
		p.Samples = append(p.Samples, n)
		if n == a.MaxSamples {
			break
		}
	}
	// The information of a look is 1/Var(shift) ∝ 1/(1/n1 + 1/n2); with a
	// fixed baseline the before side's share of the variance stays.
	info := func(n int) float64 {
		n1 := float64(n)
		if baseline > 0 {
			n1 = float64(baseline)
		}
		return 1 / (1/n1 + 1/float64(n))
	}
	last := info(a.MaxSamples)
	for _, n := range p.Samples {
		p.Fractions = append(p.Fractions, info(n)/last)
	}
	var err error
	if p.Bounds, err = Boundaries(PocockSpending, alpha, p.Fractions); err != nil {
		return nil, err
	}
	return p, nil
}

// Stop says why an adaptive run stopped sampling at a look.
type Stop string

const (
	// StopNone: the look decided nothing; sampling goes on.
	StopNone Stop = "continue"
	// StopWithin: the shift's repeated confidence interval lies below
	// the regression threshold, and the run can resolve a regression of
	// the threshold's size (its minimum detectable effect at 80% power is
	// within it) or found the metric significantly faster.
	StopWithin Stop = "within"
	// StopBeyond: the interval lies above the threshold, and the shift is
	// significant: a regression.
	StopBeyond Stop = "beyond"
	// StopCap: the cap was reached undecided; the fixed-sample rule
	// decides, at the last look's boundary.
	StopCap Stop = "cap"
)

// Look is what an adaptive run saw at one look, on the gated metric.
type Look struct {
	// N1 and N2 are the samples before and after so far.
	N1, N2 int
	// Boundary is the look's critical value c_k; Alpha its nominal
	// two-sided level 2(1 − Φ(c_k)), what the look's p-value is held to.
	Boundary float64
	Alpha    float64
	// Shift is the Hodges-Lehmann estimate with its repeated confidence
	// interval: Moses's interval at level 1 − Alpha. All the looks'
	// intervals hold the true shift together with probability at least
	// 1 − alpha (Jennison & Turnbull, "Interim analyses: the repeated
	// confidence interval approach", JRSS B 51, 1989), whenever the run
	// stops.
	Shift Estimate
	// Threshold is the smallest shift that fails the gate, in the
	// metric's unit (RegressionThreshold of the median before).
	Threshold float64
	// MDE is the minimum detectable effect at this look's level.
	MDE MDE
	// Stop is what the look decided.
	Stop Stop
}

// Decide looks at the gated metric's samples so far at look k (0-based)
// of the plan, with the gate's thresholds: a shift whose repeated
// interval lies beyond the threshold and is significant stops the run as
// a regression; one whose interval lies below the threshold stops it as
// none, provided the run's minimum detectable effect is within the
// threshold too or the metric is significantly faster (so that a run
// that stops early never "could not tell"); the last look stops at the
// cap.
func (p *Plan) Decide(k int, before, after []float64, t Thresholds) (Look, error) {
	if k < 0 || k >= len(p.Samples) {
		return Look{}, fmt.Errorf("look %d is not in the plan's %d", k+1, len(p.Samples))
	}
	if len(before) < MinSamples || len(after) < MinSamples {
		return Look{}, fmt.Errorf("%w: %d before and %d after, need at least %d each", ErrTooFewSamples, len(before), len(after), MinSamples)
	}
	l := Look{N1: len(before), N2: len(after), Boundary: p.Bounds[k], Stop: StopNone}
	last := k == len(p.Samples)-1
	if math.IsInf(l.Boundary, 1) {
		// Nothing to spend yet: the look cannot reject, nor narrow
		// anything down.
		l.Shift = Estimate{Center: math.NaN(), Lo: math.Inf(-1), Hi: math.Inf(1)}
		l.MDE = MDE{Power80: math.Inf(1), Power95: math.Inf(1), SE: math.Inf(1)}
		if last {
			l.Stop = StopCap
		}
		return l, nil
	}
	l.Alpha = 2 * upperTail(l.Boundary)
	c, err := Compare(before, after, 1-l.Alpha)
	if err != nil {
		return Look{}, err
	}
	l.Shift = c.Shift
	l.Threshold = t.RegressionThreshold(c.Before.Center)
	l.MDE = mdeFromInterval(c.Shift, l.Alpha)
	at := t
	at.Alpha = l.Alpha
	change := classify(c, at, true)
	// A significant speed-up rules a regression out at the look's level
	// whatever the MDE, as it does in the verdict (CouldNotTell).
	told := l.MDE.Power80 <= l.Threshold || change == ChangeFaster || change == ChangeImprovement
	switch {
	case change == ChangeRegression && l.Shift.Lo > l.Threshold:
		l.Stop = StopBeyond
	case l.Shift.Hi <= l.Threshold && told:
		l.Stop = StopWithin
	case last:
		l.Stop = StopCap
	}
	return l, nil
}

// Sampling is how a gate run took its samples.
type Sampling struct {
	// Adaptive is true for adaptive runs; fixed runs have no looks.
	Adaptive bool
	// MaxSamples is the cap per side of an adaptive run.
	MaxSamples int
	// Looks are an adaptive run's looks, in order; the last one stopped it.
	Looks []Look
}

// Last is the look that stopped an adaptive run; nil for a fixed run.
func (s *Sampling) Last() *Look {
	if s == nil || len(s.Looks) == 0 {
		return nil
	}
	return &s.Looks[len(s.Looks)-1]
}

// errNoDecision is a plan whose looks ran out without a stop, which
// Decide's last look rules out.
var errNoDecision = errors.New("adaptive sampling ended without a decision")

// sampleAdaptively runs the plan: measure takes n more samples per side
// and returns the gated metric's values of both sides so far; after each
// block the plan decides whether to go on. It returns the looks, the last
// of which stopped the run.
func sampleAdaptively(p *Plan, t Thresholds, measure func(n int) (before, after []float64, err error)) ([]Look, error) {
	var looks []Look
	have := 0
	for k, n := range p.Samples {
		before, after, err := measure(n - have)
		if err != nil {
			return looks, err
		}
		have = n
		l, err := p.Decide(k, before, after, t)
		if err != nil {
			return looks, err
		}
		looks = append(looks, l)
		if l.Stop != StopNone {
			return looks, nil
		}
	}
	return looks, errNoDecision
}
