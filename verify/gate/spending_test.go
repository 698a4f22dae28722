package gate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// equalLooks are K equally spaced information fractions.
func equalLooks(k int) []float64 {
	t := make([]float64, k)
	for i := range t {
		t[i] = float64(i+1) / float64(k)
	}
	return t
}

// TestCrossingProbabilityClassicalDesigns checks the recursive
// integration against the classical group-sequential tests, whose
// constants are tabulated for two-sided alpha 0.05 and K equally spaced
// looks (Pocock, Biometrika 64, 1977; O'Brien & Fleming, Biometrics 35,
// 1979; both as in Jennison & Turnbull, Group Sequential Methods with
// Applications to Clinical Trials, 2000, Tables 2.1 and 2.3): each design
// must reject a true null hypothesis with probability 0.05. The constants
// are given to three decimals, which moves the probability by less than
// 0.001.
func TestCrossingProbabilityClassicalDesigns(t *testing.T) {
	pocock := func(c float64) func(k, K int) float64 { return func(int, int) float64 { return c } }
	obf := func(c float64) func(k, K int) float64 {
		return func(k, K int) float64 { return c * math.Sqrt(float64(K)/float64(k)) }
	}
	tests := []struct {
		name  string
		looks int
		bound func(k, K int) float64
	}{
		{"Pocock K=2", 2, pocock(2.178)},
		{"Pocock K=3", 3, pocock(2.289)},
		{"Pocock K=4", 4, pocock(2.361)},
		{"Pocock K=5", 5, pocock(2.413)},
		{"Pocock K=10", 10, pocock(2.555)},
		{"O'Brien-Fleming K=2", 2, obf(1.977)},
		{"O'Brien-Fleming K=3", 3, obf(2.004)},
		{"O'Brien-Fleming K=4", 4, obf(2.024)},
		{"O'Brien-Fleming K=5", 5, obf(2.040)},
		{"one look", 1, pocock(1.95996)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := make([]float64, tt.looks)
			for k := range c {
				c[k] = tt.bound(k+1, tt.looks)
			}
			p, err := CrossingProbability(c, equalLooks(tt.looks))
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(p-0.05) > 0.001 {
				t.Errorf("rejects a true null hypothesis with probability %.5f, want 0.05", p)
			}
		})
	}
}

// TestBoundariesSpendAlpha checks Boundaries against a simulation that
// shares no code with it: Brownian paths observed at the looks, counting
// the share that has crossed ±c_k·√t_k by each look. By look k that share
// must be the spending function at t_k. 200,000 paths give a standard
// error of at most 0.0005, so the tolerance is 0.002.
func TestBoundariesSpendAlpha(t *testing.T) {
	// The gate's own schedule: 20 samples a side per look up to 300, and
	// the same against a fixed baseline of 100 (unequal fractions).
	gate, err := NewPlan(0.05, Adaptive{MaxSamples: 300, Block: 20}, 0)
	if err != nil {
		t.Fatal(err)
	}
	baseline, err := NewPlan(0.05, Adaptive{MaxSamples: 300, Block: 20}, 100)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		spend SpendingFunction
		alpha float64
		t     []float64
	}{
		{"Pocock-type, 5 equal looks", PocockSpending, 0.05, equalLooks(5)},
		{"O'Brien-Fleming-type, 5 equal looks", OBrienFlemingSpending, 0.05, equalLooks(5)},
		{"Pocock-type, 4 unequal looks", PocockSpending, 0.10, []float64{0.1, 0.35, 0.6, 1}},
		{"Pocock-type, the gate's looks", PocockSpending, 0.05, gate.Fractions},
		{"Pocock-type, against a baseline", PocockSpending, 0.05, baseline.Fractions},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Boundaries(tt.spend, tt.alpha, tt.t)
			if err != nil {
				t.Fatal(err)
			}
			const paths = 200_000
			crossed := make([]int, len(tt.t)) // crossed by look k
			r := rand.New(rand.NewPCG(15, uint64(i)))
			for range paths {
				s, prev := 0.0, 0.0
				for k, tk := range tt.t {
					s += r.NormFloat64() * math.Sqrt(tk-prev)
					prev = tk
					if math.Abs(s) >= c[k]*math.Sqrt(tk) {
						for j := k; j < len(tt.t); j++ {
							crossed[j]++
						}
						break
					}
				}
			}
			for k, tk := range tt.t {
				got := float64(crossed[k]) / paths
				want := tt.spend(tt.alpha, tk)
				if math.Abs(got-want) > 0.002 {
					t.Errorf("look %d (t=%.3f, c=%.3f): crossed by %.4f of paths, want %.4f", k+1, tk, c[k], got, want)
				}
			}
		})
	}
}

func TestBoundariesShape(t *testing.T) {
	// One look is a plain two-sided test.
	c, err := Boundaries(PocockSpending, 0.05, []float64{1})
	if err != nil || math.Abs(c[0]-1.95996) > 1e-4 {
		t.Errorf("one look: %v, %v; want 1.96", c, err)
	}
	// Pocock-type boundaries are nearly flat; O'Brien-Fleming-type ones
	// fall steeply, from almost nothing spent at the first look.
	p, _ := Boundaries(PocockSpending, 0.05, equalLooks(5))
	o, _ := Boundaries(OBrienFlemingSpending, 0.05, equalLooks(5))
	if p[0]-p[4] > 0.1 || o[0]-o[4] < 2 || o[4] > p[4] {
		t.Errorf("Pocock-type %v, O'Brien-Fleming-type %v", p, o)
	}
	// A look too early to spend anything cannot reject.
	c, _ = Boundaries(OBrienFlemingSpending, 0.05, []float64{0.01, 1})
	if !math.IsInf(c[0], 1) || math.Abs(c[1]-1.96) > 0.01 {
		t.Errorf("a look at t=0.01: %v", c)
	}
}

func TestBoundariesErrors(t *testing.T) {
	for _, tt := range []struct {
		alpha float64
		t     []float64
	}{
		{0, []float64{1}},
		{1, []float64{1}},
		{0.05, nil},
		{0.05, []float64{0.5, 0.5}},
		{0.05, []float64{0.5, 1.5}},
		{0.05, []float64{0, 1}},
	} {
		if _, err := Boundaries(PocockSpending, tt.alpha, tt.t); err == nil {
			t.Errorf("alpha %v, looks %v: no error", tt.alpha, tt.t)
		}
	}
}
