package gate

import (
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/verify"
)

// spread returns 31 values center + k·step for k = −15..15: the median is
// center, and with binary-exact center and step every pairwise difference
// is exact, so shifts land exactly on the thresholds.
func spread(center, step float64) []float64 {
	out := make([]float64, 0, 31)
	for k := -15; k <= 15; k++ {
		out = append(out, center+float64(k)*step)
	}
	return out
}

func shifted(v []float64, by float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x + by
	}
	return out
}

// initSamples makes samples whose init times are v; the other times are
// constant so they never change.
func initSamples(v []float64) []verify.Sample {
	out := make([]verify.Sample, len(v))
	for i, x := range v {
		out[i] = verify.Sample{InitMs: x, FirstInvokeMs: 1, ColdStartMs: x + 1, MaxRSSBytes: 8 << 20}
	}
	return out
}

func TestVerdictEdges(t *testing.T) {
	base := spread(100, 1) // median 100 ms: a shift of s ms is s%
	small := spread(2, 1.0/64)
	tests := []struct {
		name          string
		before, after []float64
		want          Change
		pass          bool
	}{
		{"identical", base, base, ChangeNone, true},
		{"exactly max regression", base, shifted(base, 10), ChangeSlower, true},
		{"just over max regression", base, shifted(base, 10.5), ChangeRegression, false},
		{"significant but small", base, shifted(base, 5), ChangeSlower, true},
		// 5 against 5, +12%: U = 19 of 25, exact p = 2·27/252 ≈ 0.21.
		{"large but not significant", []float64{80, 90, 100, 110, 120}, []float64{92, 102, 112, 122, 132}, ChangeNone, true},
		// Median 2 ms: +0.25 ms is +12.5%, beyond 10% but exactly at
		// the 0.25 ms floor, which must be exceeded.
		{"exactly min delta", small, shifted(small, 0.25), ChangeSlower, true},
		{"just over min delta", small, shifted(small, 0.25+1.0/64), ChangeRegression, false},
		{"improvement", base, shifted(base, -11), ChangeImprovement, true},
		{"faster within threshold", base, shifted(base, -5), ChangeFaster, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(Input{
				Before:     Side{Samples: initSamples(tt.before)},
				After:      Side{Samples: initSamples(tt.after)},
				Thresholds: DefaultThresholds(),
			})
			if err != nil {
				t.Fatal(err)
			}
			m := r.Metrics[0]
			if m.Metric != verify.MetricInit || !m.Gated {
				t.Fatalf("first metric %s gated=%v, want init gated", m.Metric, m.Gated)
			}
			if m.Change != tt.want {
				t.Errorf("change = %s, want %s (p=%.4g, shift %+.4g ms, %+.3g%%)", m.Change, tt.want,
					m.Comparison.P, m.Comparison.Shift.Center, m.Comparison.ShiftPct().Center)
			}
			if r.Pass() != tt.pass {
				t.Errorf("pass = %v, want %v; failures %q", r.Pass(), tt.pass, r.Failures())
			}
			if want := map[bool]int{true: 0, false: 1}[tt.pass]; r.ExitCode() != want {
				t.Errorf("exit code %d, want %d", r.ExitCode(), want)
			}
		})
	}
}

func TestVerdictOnlyGatedMetricsFail(t *testing.T) {
	base := spread(100, 1)
	before := initSamples(base)
	after := initSamples(base)
	for i := range after {
		after[i].ColdStartMs += 50 // cold start +50%, init unchanged
	}
	in := Input{Before: Side{Samples: before}, After: Side{Samples: after}, Thresholds: DefaultThresholds()}
	r, err := Evaluate(in)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Pass() {
		t.Errorf("ungated cold-start regression failed the gate: %q", r.Failures())
	}
	var cold *MetricResult
	for i := range r.Metrics {
		if r.Metrics[i].Metric == verify.MetricColdStart {
			cold = &r.Metrics[i]
		}
	}
	if cold == nil || cold.Change != ChangeRegression {
		t.Fatalf("cold start should be reported as a regression: %+v", cold)
	}

	in.Gated = []verify.Metric{verify.MetricColdStart}
	r, err = Evaluate(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Pass() || !strings.Contains(r.Failures()[0], "cold start regressed") {
		t.Errorf("gated cold start: failures %q", r.Failures())
	}
}

func TestVerdictSizes(t *testing.T) {
	same := initSamples(spread(100, 1))
	tests := []struct {
		name      string
		before    int64
		after     int64
		maxGrowth float64
		pass      bool
	}{
		{"unchanged", 1000, 1000, 5, true},
		{"exactly at max growth", 1000, 1050, 5, true},
		{"over max growth", 1000, 1051, 5, false},
		{"shrunk", 1000, 500, 5, true},
		{"check off", 1000, 9000, -1, true},
		{"zero growth allowed", 1000, 1001, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := DefaultThresholds()
			th.MaxSizeGrowthPct = tt.maxGrowth
			r, err := Evaluate(Input{
				Before:     Side{Samples: same, Sizes: map[string]int64{"zip": tt.before, "bootstrap": 5000}},
				After:      Side{Samples: same, Sizes: map[string]int64{"zip": tt.after, "bootstrap": 5000, "new": 1}},
				Thresholds: th,
			})
			if err != nil {
				t.Fatal(err)
			}
			if r.Pass() != tt.pass {
				t.Errorf("pass = %v, want %v; failures %q", r.Pass(), tt.pass, r.Failures())
			}
			if len(r.Sizes) != 2 || r.Sizes[0].Name != "bootstrap" || r.Sizes[1].Name != "zip" {
				t.Errorf("sizes compared: %+v, want bootstrap and zip (only names on both sides)", r.Sizes)
			}
		})
	}
}

func TestVerdictBudgets(t *testing.T) {
	// Init values 85..115: p50 = 100, p90 = 85 + 0.9·30 = 112.
	samples := initSamples(spread(100, 1))
	tests := []struct {
		name    string
		budgets config.Budgets
		failing []string
	}{
		{"none", config.Budgets{}, nil},
		{"p50 exactly at budget", config.Budgets{InitP50Ms: 100}, nil},
		{"p50 over budget", config.Budgets{InitP50Ms: 99.9}, []string{"init_p50_ms"}},
		{"p90 exactly at budget", config.Budgets{InitP90Ms: 112}, nil},
		{"p90 over budget", config.Budgets{InitP90Ms: 111}, []string{"init_p90_ms"}},
		{"artifact at budget", config.Budgets{ArtifactBytes: 4096}, nil},
		{"artifact over budget", config.Budgets{ArtifactBytes: 4095}, []string{"artifact_bytes"}},
		{"all over", config.Budgets{InitP50Ms: 1, InitP90Ms: 1, ArtifactBytes: 1}, []string{"init_p50_ms", "init_p90_ms", "artifact_bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(Input{
				Before:     Side{Samples: samples},
				After:      Side{Samples: samples, Sizes: map[string]int64{"zip": 4096}, Artifact: "zip"},
				Thresholds: DefaultThresholds(),
				Budgets:    tt.budgets,
			})
			if err != nil {
				t.Fatal(err)
			}
			var failing []string
			for _, b := range r.Budgets {
				if b.Exceeded {
					failing = append(failing, b.Name)
				}
			}
			if strings.Join(failing, ",") != strings.Join(tt.failing, ",") {
				t.Errorf("exceeded %v, want %v", failing, tt.failing)
			}
			if r.Pass() != (len(tt.failing) == 0) || len(r.Failures()) != len(tt.failing) {
				t.Errorf("pass = %v, failures %q", r.Pass(), r.Failures())
			}
		})
	}
}

func TestVerdictCannotDecide(t *testing.T) {
	four := initSamples([]float64{1, 2, 3, 4})
	five := initSamples([]float64{1, 2, 3, 4, 5})
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"too few samples", Input{Before: Side{Samples: four}, After: Side{Samples: five}, Thresholds: DefaultThresholds()}, "too few samples"},
		{"bad alpha", Input{Before: Side{Samples: five}, After: Side{Samples: five}, Thresholds: Thresholds{Alpha: 1}}, "alpha"},
		{"negative max regression", Input{Before: Side{Samples: five}, After: Side{Samples: five}, Thresholds: Thresholds{Alpha: 0.05, MaxRegressionPct: -1}}, "max regression"},
		{"gate on RSS", Input{Before: Side{Samples: five}, After: Side{Samples: five}, Thresholds: DefaultThresholds(), Gated: []verify.Metric{verify.MetricMaxRSS}}, "cannot be gated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Evaluate(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestVerdictUngatedTooFewIsAWarning(t *testing.T) {
	before := initSamples(spread(100, 1))
	after := initSamples(spread(100, 1))
	after[0].WarmMs = []float64{1, 2} // warm values on one side only
	r, err := Evaluate(Input{Before: Side{Samples: before}, After: Side{Samples: after}, Thresholds: DefaultThresholds()})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "warm invoke not compared") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if !r.Pass() {
		t.Errorf("failures %q", r.Failures())
	}
}

func TestParseGateMetric(t *testing.T) {
	for name, want := range map[string]verify.Metric{"init": verify.MetricInit, "cold-start": verify.MetricColdStart, "warm-invoke": verify.MetricWarmInvoke} {
		if got, err := ParseGateMetric(name); err != nil || got != want {
			t.Errorf("ParseGateMetric(%q) = %q, %v", name, got, err)
		}
	}
	for _, bad := range []string{"", "rss", "init_ms"} {
		if _, err := ParseGateMetric(bad); err == nil {
			t.Errorf("ParseGateMetric(%q) accepted", bad)
		}
	}
}

// TestVerdictCouldNotTell: a run that finds no regression but whose
// minimum detectable effect (80% power) is above the threshold says it
// could not tell; that passes (exit 0) unless Strict (exit 2), and a
// failure still fails. The MDEs here follow from MDE = 2.80·SE with SE ≈
// 1.02·σ·√(2/n) (mde.go): 31 values spaced 1 ms apart (σ ≈ 9 ms) give
// about 6.5 ms, below the 10 ms threshold of a 100 ms median; spaced 4 ms
// apart, about 26 ms, above it.
func TestVerdictCouldNotTell(t *testing.T) {
	quiet := spread(100, 1)
	noisy := spread(100, 4)
	five := []float64{96, 98, 100, 102, 104}
	small := spread(2, 1.0/64) // median 2 ms: the threshold is the 0.25 ms floor
	tests := []struct {
		name          string
		before, after []float64
		alpha         float64
		growth        bool // the zip grows by 20%
		verdict       Verdict
		exit, strict  int    // exit codes without and with Strict
		reason        string // in CouldNotTell()
	}{
		{"resolved", quiet, quiet, 0.05, false, VerdictPass, 0, 0, ""},
		{"resolved, at the floor", small, small, 0.05, false, VerdictPass, 0, 0, ""},
		{"too noisy", noisy, noisy, 0.05, false, VerdictCouldNotTell, 0, 2,
			"init: a regression of +10.0% (+10.00 ms) could have passed unseen: the smallest shift this run detects with 80% power is +"},
		{"too few samples for the level", five, five, 0.001, false, VerdictCouldNotTell, 0, 2,
			"init: a regression of +10.0% (+10.00 ms) could have passed unseen: with 5 and 5 samples no shift, however large, is significant at p < 0.001; measure more samples"},
		{"a regression found", quiet, shifted(quiet, 20), 0.05, false, VerdictFail, 1, 1, ""},
		// Significantly faster rules a regression out, however noisy.
		{"a significant improvement, noisy", noisy, shifted(noisy, -40), 0.05, false, VerdictPass, 0, 0, ""},
		{"a size failure while noisy", noisy, noisy, 0.05, true, VerdictFail, 1, 1, "init: a regression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{
				Before:     Side{Samples: initSamples(tt.before), Sizes: map[string]int64{"zip": 1000}},
				After:      Side{Samples: initSamples(tt.after), Sizes: map[string]int64{"zip": 1000}},
				Thresholds: DefaultThresholds(),
			}
			in.Thresholds.Alpha = tt.alpha
			if tt.growth {
				in.After.Sizes["zip"] = 1200
			}
			r, err := Evaluate(in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict() != tt.verdict || r.ExitCode() != tt.exit {
				t.Errorf("verdict %s exit %d, want %s %d (MDE %+v, threshold %g)", r.Verdict(), r.ExitCode(), tt.verdict, tt.exit, r.Metrics[0].MDE, r.Metrics[0].Threshold)
			}
			reasons := strings.Join(r.CouldNotTell(), "\n")
			if (tt.reason == "") != (reasons == "") || !strings.Contains(reasons, tt.reason) {
				t.Errorf("could not tell: %q, want %q", reasons, tt.reason)
			}
			in.Strict = true
			if r, _ = Evaluate(in); r.ExitCode() != tt.strict {
				t.Errorf("strict: exit %d, want %d", r.ExitCode(), tt.strict)
			}
			// The JSON report says the same.
			d := NewDocument(r)
			if d.Verdict != tt.verdict || d.ExitCode != tt.strict || !d.Strict || len(d.CouldNotTell) != len(r.CouldNotTell()) {
				t.Errorf("document: verdict %s exit %d strict %v could not tell %q", d.Verdict, d.ExitCode, d.Strict, d.CouldNotTell)
			}
		})
	}
}

// TestVerdictAdaptiveLevel: an adaptive run holds its gated metric to the
// nominal level of the look that stopped it, not to alpha, and its MDE is
// for that level; the other metrics keep alpha. A +20 ms shift of the
// noisy samples has p ≈ 0.035: a regression at 0.05, none at 0.01.
func TestVerdictAdaptiveLevel(t *testing.T) {
	noisy := spread(100, 4)
	in := Input{Before: Side{Samples: initSamples(noisy)}, After: Side{Samples: initSamples(shifted(noisy, 20))}, Thresholds: DefaultThresholds()}
	tests := []struct {
		name     string
		sampling Sampling
		want     Change
		mdeAlpha float64
	}{
		{"fixed", Sampling{}, ChangeRegression, 0.05},
		{"adaptive, stopped at a look of level 0.01", Sampling{Adaptive: true, MaxSamples: 31, Looks: []Look{{Alpha: 0.01, Stop: StopCap}}}, ChangeNone, 0.01},
		// A look with nothing to spend can reject nothing.
		{"adaptive, a look of level 0", Sampling{Adaptive: true, MaxSamples: 31, Looks: []Look{{Alpha: 0, Stop: StopCap}}}, ChangeNone, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in.Sampling = tt.sampling
			r, err := Evaluate(in)
			if err != nil {
				t.Fatal(err)
			}
			m := r.Metrics[0]
			if m.Change != tt.want || m.MDE.Alpha != tt.mdeAlpha {
				t.Errorf("change %s, MDE at %g; want %s at %g (p=%.4f)", m.Change, m.MDE.Alpha, tt.want, tt.mdeAlpha, m.Comparison.P)
			}
			for _, o := range r.Metrics[1:] {
				if o.MDE.Alpha != 0.05 {
					t.Errorf("%s: MDE at %g, want the gate's alpha", o.Metric, o.MDE.Alpha)
				}
			}
		})
	}
}
