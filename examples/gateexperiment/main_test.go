package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// trials makes n runs of kind, the first fails of them with exit status 1.
func trials(kind string, n, fails int) []trial {
	var out []trial
	for i := range n {
		t := trial{kind: kind, seconds: 5, shiftPct: 1, p: 0.5}
		if i < fails {
			t.exit = 1
		}
		out = append(out, t)
	}
	return out
}

func TestSummarizeTargets(t *testing.T) {
	tests := []struct {
		name                    string
		falseAlarms, detections int
		errs                    int
		ok                      bool
	}{
		{"perfect", 0, 20, 0, true},
		{"at the limits", 1, 19, 0, true},
		{"two false alarms", 2, 20, 0, false},
		{"two misses", 0, 18, 0, false},
		{"a run could not measure", 0, 20, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := append(trials("identical", 20, tt.falseAlarms), trials("regressed", 20, tt.detections)...)
			for i := range tt.errs {
				ts[i].exit = 2
			}
			o := options{trials: 20, samples: 100, regressionPct: 15, baseWorkMs: 8}
			text, ok := summarize(o, ts, trial{beforeP50: 2, afterP50: 10}, trial{beforeP50: 10, shiftMs: 1.5, shiftPct: 15}, "1 1 1", time.Minute)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v\n%s", ok, tt.ok, text)
			}
			want := "**" + strconv.Itoa(tt.falseAlarms) + " / 20** (false alarms)"
			if !strings.Contains(text, want) {
				t.Errorf("summary lacks %q:\n%s", want, text)
			}
		})
	}
}
