package gate

import (
	"slices"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/verify"
)

// TestShiftSignExplained: when the shift and the difference of the medians
// disagree in sign, the report says why instead of leaving two figures
// that contradict each other; when they agree, it says nothing.
func TestShiftSignExplained(t *testing.T) {
	samples := func(init ...float64) []verify.Sample {
		var out []verify.Sample
		for _, v := range init {
			out = append(out, verify.Sample{InitMs: v, FirstInvokeMs: 1, ColdStartMs: 2, MaxRSSBytes: 1 << 20})
		}
		return out
	}
	tests := []struct {
		name          string
		before, after []float64
		want          string // "" for no explanation
	}{
		// The median goes from 70 to 80 ms (+10 ms), but most starts got
		// faster: 10 of 21 now take 10 ms where 10 of 21 took 160 ms. The
		// median of the 441 differences after − before is −60 ms, and
		// significant.
		{"opposite", slices.Concat(repeat(70, 11), repeat(160, 10)), slices.Concat(repeat(80, 11), repeat(10, 10)),
			"init: the shift -60.00 ms (Hodges-Lehmann: the median of every after − before difference) and the difference of the medians +10.00 ms point in opposite directions"},
		// Medians 7 → 5 (−2 ms), shift +1 ms, but p is far above alpha:
		// no change, and noise has no direction to explain.
		{"opposite, not significant", []float64{1, 2, 7, 7, 8}, []float64{1, 4, 5, 8, 10}, ""},
		{"same direction", []float64{1, 2, 3, 4, 5}, []float64{2, 3, 4, 5, 6}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Evaluate(Input{Before: Side{Samples: samples(tt.before...)}, After: Side{Samples: samples(tt.after...)}, Thresholds: DefaultThresholds()})
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			if err := WriteText(&text, r); err != nil {
				t.Fatal(err)
			}
			var md strings.Builder
			if err := WriteMarkdown(&md, r); err != nil {
				t.Fatal(err)
			}
			for _, report := range []string{text.String(), md.String(), strings.Join(NewDocument(r).Warnings, "\n")} {
				if got := strings.Contains(report, "point in opposite directions"); got != (tt.want != "") || !strings.Contains(report, tt.want) {
					t.Errorf("want %q in:\n%s", tt.want, report)
				}
			}
		})
	}
}

// TestTextNotGated: the text report's table says a metric that regressed
// but is not gated is not gated, as the Markdown report does, since it
// fails nothing.
func TestTextNotGated(t *testing.T) {
	r := fixtureResults(t)["fail"]
	var b strings.Builder
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, m := range r.Metrics {
		if m.Change != ChangeRegression {
			continue
		}
		for _, line := range strings.Split(b.String(), "\n") {
			if !strings.HasPrefix(line, MetricLabel(m.Metric)+" ") {
				continue
			}
			seen++
			if notGated := strings.HasSuffix(line, "regression (not gated)"); notGated == m.Gated {
				t.Errorf("%s (gated %v): %q", MetricLabel(m.Metric), m.Gated, line)
			}
		}
	}
	if seen < 2 {
		t.Fatalf("the fixture has %d regressions in the table, want a gated one and one not gated:\n%s", seen, b.String())
	}
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
