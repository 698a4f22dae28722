package rootfs

import (
	"archive/tar"
	"math"
	"strings"
	"testing"
)

// The scores are dive's, worked out by hand in each case's comment.
func TestEfficiency(t *testing.T) {
	dir := func(name string) *tar.Header { return &tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755} }
	file := func(name string, size int64) *tar.Header {
		return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size}
	}
	cases := []struct {
		name   string
		layers [][]*tar.Header
		want   Efficiency
	}{
		{
			// One occurrence of each path: nothing wasted, score 1.
			name:   "no duplicates",
			layers: [][]*tar.Header{{dir("bin"), file("bin/sh", 100)}, {dir("app"), file("app/x", 50)}},
			want:   Efficiency{Score: 1, WastedBytes: 0, UserWastedPercent: 0, UserBytes: 50},
		},
		{
			// bin/sh 100 once; app/data 1000 in layers 1 and 2 (sum
			// 2000, min 1000); app/tmp 50 in layer 1, deleted in layer 2
			// (a file's whiteout weighs 0: sum 50, min 0).
			// score = (100+1000+0) / (100+2000+50) = 1100/2150;
			// wasted = 2000 + 50 = 2050; user bytes = 1050 + 1000 =
			// 2050, so user wasted = 1.
			name: "a file written twice and one deleted",
			layers: [][]*tar.Header{
				{dir("bin"), file("bin/sh", 100)},
				{dir("app"), file("app/data", 1000), file("app/tmp", 50)},
				{dir("app"), file("app/data", 1000), file("app/.wh.tmp", 0)},
			},
			want: Efficiency{Score: 1100.0 / 2150, WastedBytes: 2050, UserWastedPercent: 1, UserBytes: 2050},
		},
		{
			// A deleted folder is one occurrence of its own path (a
			// leaf only in the deleting layer), sized by what it
			// deletes (30+70): dive does not count it as waste.
			// score = (30+70+100)/(30+70+100) = 1.
			name: "a folder deleted",
			layers: [][]*tar.Header{
				{dir("logs"), file("logs/a", 30), file("logs/b", 70)},
				{file(".wh.logs", 0)},
			},
			want: Efficiency{Score: 1, WastedBytes: 0, UserWastedPercent: 0, UserBytes: 0},
		},
		{
			// An empty folder in two layers: two occurrences of 0
			// bytes, nothing to score.
			name:   "nothing but folders",
			layers: [][]*tar.Header{{dir("a")}, {dir("a")}},
			want:   Efficiency{Score: 1},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree := NewTree()
			for i, l := range c.layers {
				for _, h := range l {
					if skip := tree.Apply(EntryOf(h, i), nil); skip != "" {
						t.Fatalf("%s skipped: %s", h.Name, skip)
					}
				}
			}
			got := tree.Efficiency()
			if math.Abs(got.Score-c.want.Score) > 1e-12 || got.WastedBytes != c.want.WastedBytes ||
				math.Abs(got.UserWastedPercent-c.want.UserWastedPercent) > 1e-12 || got.UserBytes != c.want.UserBytes {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			// Scoring is read-only: asking twice gives the same.
			if again := tree.Efficiency(); again != got {
				t.Errorf("second call %+v, first %+v", again, got)
			}
		})
	}
}

// Each threshold fails as dive's rule does: below the lowest efficiency,
// above the highest wasted bytes or user-wasted ratio; equal passes.
func TestEfficiencyLimits(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	n := func(v int64) *int64 { return &v }
	e := Efficiency{Score: 0.5, WastedBytes: 2050, UserWastedPercent: 1}
	cases := []struct {
		name   string
		limits EfficiencyLimits
		want   []string
	}{
		{"none", EfficiencyLimits{}, nil},
		{"all met, equal included", EfficiencyLimits{LowestEfficiency: f(0.5), HighestWastedBytes: n(2050), HighestUserWastedPercent: f(1)}, nil},
		{"all failed", EfficiencyLimits{LowestEfficiency: f(0.9), HighestWastedBytes: n(0), HighestUserWastedPercent: f(0.1)},
			[]string{"lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent"}},
		{"wasted only", EfficiencyLimits{HighestWastedBytes: n(2049)}, []string{"highestWastedBytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, fl := range c.limits.Check(e) {
				got = append(got, fl.Rule)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("failed %q, want %q", got, c.want)
			}
			if c.limits.Set() != (c.name != "none") {
				t.Errorf("Set() = %v", c.limits.Set())
			}
		})
	}
}
