package main

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/verify/gate"
)

// trials makes n runs of a kind and mode taking secs each, the first
// fails of them with exit status 1.
func trials(kind, mode string, n, fails int, secs float64) []trial {
	var out []trial
	for i := range n {
		t := trial{kind: kind, mode: mode, seconds: secs, shiftPct: 1, p: 0.5, mde80Pct: 5, samples: 100, verdict: gate.VerdictPass}
		if i < fails {
			t.exit, t.verdict = 1, gate.VerdictFail
		}
		out = append(out, t)
	}
	return out
}

func TestSummarizeTargets(t *testing.T) {
	kinds := []*kind{{name: "identical"}, {name: "+12%", pct: 12, measured: 12.3, fitted: 12.1}, {name: "+15%", pct: 15, measured: 15.1, fitted: 14.9}}
	tests := []struct {
		name                            string
		falseAlarms, caught12, caught15 int
		errs                            int
		fixedSecs, autoSecs             float64
		ok                              bool
		want                            string
	}{
		{"perfect", 0, 20, 20, 0, 10, 12, true, "targets met"},
		{"at the limits", 1, 19, 19, 0, 10, 20, true, "targets met"},
		{"two false alarms", 2, 20, 20, 0, 10, 12, false, "2 false alarms"},
		{"two misses near the threshold", 0, 18, 20, 0, 10, 12, false, "+12% caught 18 times"},
		{"too slow", 0, 20, 20, 0, 10, 21, false, "median time 2.10 times"},
		{"a run could not measure", 0, 20, 20, 1, 10, 12, false, "targets NOT met"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts []trial
			for _, mode := range []string{modeFixed, modeAuto} {
				secs := map[string]float64{modeFixed: tt.fixedSecs, modeAuto: tt.autoSecs}[mode]
				ts = append(ts, trials("identical", mode, 20, tt.falseAlarms, secs)...)
				ts = append(ts, trials("+12%", mode, 20, tt.caught12, secs)...)
				ts = append(ts, trials("+15%", mode, 20, tt.caught15, secs)...)
			}
			for i := range tt.errs {
				ts[len(ts)-1-i].exit = 2
			}
			o := options{trials: 20, samples: 100, threshold: 10, factors: []float64{1.2, 1.5}, baseWorkMs: 8}
			text, ok := summarize(o, kinds, ts, 10, 2, "1 1 1", time.Minute)
			if ok != tt.ok || !strings.Contains(text, tt.want) {
				t.Errorf("ok = %v, want %v; want %q in:\n%s", ok, tt.ok, tt.want, text)
			}
			want := "| identical | adaptive, at most " + strconv.Itoa(gate.DefaultMaxSamples) + " | **" + map[bool]string{false: "0", true: "1"}[tt.falseAlarms == 1] + " / 20** false alarms |"
			if tt.falseAlarms <= 1 && !strings.Contains(text, want) {
				t.Errorf("summary lacks %q:\n%s", want, text)
			}
		})
	}
}

func TestParseFactors(t *testing.T) {
	tests := []struct {
		s          string
		regression float64
		want       []float64
		err        bool
	}{
		{"1.2,1.5", 0, []float64{1.2, 1.5}, false},
		{" 2 ", 0, []float64{2}, false},
		{"1.2,1.5", 15, []float64{1.5}, false}, // -regression 15 with a 10% threshold
		{"1.2,x", 0, nil, true},
		{"0", 0, nil, true},
	}
	for _, tt := range tests {
		got, err := parseFactors(tt.s, tt.regression, 10)
		if (err != nil) != tt.err || len(got) != len(tt.want) {
			t.Errorf("%q, %g: %v, %v; want %v", tt.s, tt.regression, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q, %g: %v, want %v", tt.s, tt.regression, got, tt.want)
			}
		}
	}
}

// TestAim: the work is re-aimed from the latest estimates of the share it
// added, by a line through the origin, within half and twice the
// calibrated work.
func TestAim(t *testing.T) {
	tests := []struct {
		name   string
		rounds []int
		pcts   []float64
		want   int
	}{
		{"on target", []int{1000, 1000}, []float64{12, 12}, 1000},
		// 1000 rounds added 9%: 12% takes 1333.
		{"drifted low", []int{1000, 1000}, []float64{9, 9}, 1333},
		// Only the last 5 count: the early 24% estimates are forgotten.
		{"the window", []int{1000, 1000, 1000, 1000, 1000, 1000, 1000}, []float64{24, 24, 6, 6, 6, 6, 6}, 2000},
		{"clamped", []int{1000}, []float64{1}, 2000},
		{"no estimate above zero", []int{1000}, []float64{-3}, 1000},
		{"no estimates", nil, nil, 1000},
	}
	for _, tt := range tests {
		a := &aim{pct: 12, initial: 1000}
		for i := range tt.rounds {
			a.observe(tt.rounds[i], tt.pcts[i])
		}
		if got := a.next(); got != tt.want {
			t.Errorf("%s: %d rounds, want %d", tt.name, got, tt.want)
		}
	}
}
