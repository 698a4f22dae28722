package main

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/verify"
)

// runsOf makes a run per init median: samples init ms, cold start 1 ms
// more.
func runsOf(inits ...float64) []verify.Run {
	runs := make([]verify.Run, len(inits))
	for i, ms := range inits {
		for k := 0; k < 7; k++ {
			runs[i].Samples = append(runs[i].Samples, verify.Sample{InitMs: ms, ColdStartMs: ms + 1, FirstInvokeMs: 1, WarmMs: []float64{0.1}, MaxRSSBytes: 1 << 20})
		}
	}
	return runs
}

// linkages of the rows the tests build, as variants() has them.
var linkages = map[string]Linkage{
	"go-plain": GoStatic, "go-tuned": GoStatic, "go-minimal": GoStatic, "go-floor": GoStatic,
	"rust-minimal": GlibcDynamic, "rust-static": GlibcStatic,
	"floor-glibc-dynamic": GlibcDynamic, "floor-glibc-static": GlibcStatic, "floor-musl-static": MuslStatic,
}

func builtOf(names ...string) []Built {
	out := make([]Built, len(names))
	for i, n := range names {
		out[i] = Built{Variant: Variant{Name: n, What: n + " build", Linkage: linkages[n]}, Command: "make " + n, BinaryBytes: 2 << 20, ZipBytes: 1 << 20}
	}
	return out
}

var allRows = []string{"go-plain", "go-tuned", "go-minimal", "rust-minimal", "rust-static", "go-floor", "floor-glibc-dynamic", "floor-glibc-static", "floor-musl-static"}

func TestNewRegimeTargets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cold  bool
		inits []float64 // init ms per allRows
		met   []bool    // per target judged in the regime, in goals() order
	}{
		// cold: tuned, minimal, rust vs plain; rust vs its floor.
		{"cold, all met", true, []float64{10, 6, 4.5, 1.6, 1.2, 1.2, 1.4, 1, 0.5}, []bool{true, true, true, true}},
		{"cold, all missed", true, []float64{10, 6.1, 4.6, 3.6, 1.2, 1.2, 1.4, 1, 0.5}, []bool{false, false, false, false}},
		// warm: minimal vs go-floor; rust vs its floor; rust static vs its floor.
		{"warm, all met", false, []float64{2.5, 2, 1.3, 1.1, 0.6, 1.2, 1, 0.5, 0.3}, []bool{true, true, true}},
		{"warm, rust static missed", false, []float64{2.5, 2, 1.3, 1.1, 0.61, 1.2, 1, 0.5, 0.3}, []bool{true, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := newRegime("test", tc.cold, builtOf(allRows...), runsOf(tc.inits...))
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Targets) != len(tc.met) {
				t.Fatalf("%d targets, want %d: %+v", len(g.Targets), len(tc.met), g.Targets)
			}
			for i, tg := range g.Targets {
				if tg.Met != tc.met[i] {
					t.Errorf("%s: met = %v (%.3f× against ≤ %.2f×), want %v", tg.Name, tg.Met, tg.Measured, tg.Limit, tc.met[i])
				}
			}
		})
	}
}

func TestNewRegimeRatios(t *testing.T) {
	inits := []float64{10, 6, 4, 2, 1.5, 2.5, 1, 0.5, 0.25}
	g, err := newRegime("test", true, builtOf(allRows...), runsOf(inits...))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		row                 int
		plain, own, goFloor float64
		ownName             string
	}{
		{2, 0.4, 16, 1.6, "floor-musl-static"}, // go-minimal: static Go, vs musl and go-floor
		{3, 0.2, 2, 0, "floor-glibc-dynamic"},  // rust-minimal
		{4, 0.15, 3, 0, "floor-glibc-static"},  // rust-static
		{6, 0.1, 1, 0, "floor-glibc-dynamic"},  // a floor is 1× its own
		{5, 0.25, 10, 1, "floor-musl-static"},  // go-floor
	} {
		r := g.Rows[c.row]
		if r.OwnFloor != c.ownName || math.Abs(r.InitVsPlain-c.plain) > 1e-9 || math.Abs(r.InitVsOwnFloor-c.own) > 1e-9 || math.Abs(r.InitVsGoFloor-c.goFloor) > 1e-9 {
			t.Errorf("%s: own floor %s, ratios %.3f× plain, %.3f× own, %.3f× go-floor; want %s, %.3f, %.3f, %.3f",
				r.Name, r.OwnFloor, r.InitVsPlain, r.InitVsOwnFloor, r.InitVsGoFloor, c.ownName, c.plain, c.own, c.goFloor)
		}
	}
	if r := g.Rows[3]; math.Abs(r.ColdVsOwnFloor-3.0/2) > 1e-9 {
		t.Errorf("rust-minimal cold start ÷ own floor = %.3f, want 1.5", r.ColdVsOwnFloor)
	}
}

func TestNewRegimeNeedsReferenceRows(t *testing.T) {
	if _, err := newRegime("test", false, builtOf("go-tuned", "floor-musl-static"), runsOf(1, 1)); err == nil {
		t.Error("no error without a go-plain row")
	}
	if _, err := newRegime("test", false, builtOf("go-plain", "rust-minimal", "floor-musl-static"), runsOf(1, 1, 1)); err == nil {
		t.Error("no error without rust-minimal's own floor")
	}
	if _, err := newRegime("test", false, builtOf("go-plain"), runsOf(1, 2)); err == nil {
		t.Error("no error for more runs than variants")
	}
}

func TestReportOutputs(t *testing.T) {
	built := builtOf(allRows...)
	rep := &Report{Schema: "fnopt.bench/v2", Samples: 7, Artifacts: newArtifacts(built)}
	for _, cold := range []bool{true, false} {
		g, err := newRegime("Regime (cold "+map[bool]string{true: "yes", false: "no"}[cold]+")", cold, built, runsOf(10, 7, 4, 3, 1.5, 2, 1.5, 1, 0.5))
		if err != nil {
			t.Fatal(err)
		}
		rep.Regimes = append(rep.Regimes, g)
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| go-tuned | go-static | 7.00 ms | 7.00 ms | 1.00 ms | 8.00 ms | 0.10 ms | 1.0 MiB | 2.0 MiB | 1.0 MiB | 0.70× | 14.00× (musl-static) | 3.50× | 0.73× | 5.33× (musl-static) | 2.67× |",
		"| rust-minimal | glibc-dynamic | 3.00 ms | 3.00 ms | 1.00 ms | 4.00 ms | 0.10 ms | 1.0 MiB | 2.0 MiB | 1.0 MiB | 0.30× | 2.00× (glibc-dynamic) | – | 0.36× | 1.60× (glibc-dynamic) | – |",
		"| Go tuned vs Go plain | 0.70× | ≤ 0.60× | **missed** by 17% |",
		"| Go minimal vs Go plain | 0.40× | ≤ 0.45× | met |",
		"| Go minimal vs go-floor | 2.00× | ≤ 1.10× | **missed** by 82% |",
		"- **floor-musl-static**: floor-musl-static build. `make floor-musl-static`",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
	if n := strings.Count(md.String(), "| variant |"); n != 2 {
		t.Errorf("%d tables, want one per regime", n)
	}
	var short bytes.Buffer
	if err := rep.WriteShort(&short); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| variant | zip | init p50, regime | ÷ go-plain | ÷ own floor | ÷ go-floor | init p50, regime | ÷ go-plain | ÷ own floor | ÷ go-floor |",
		"| go-minimal | 1.0 MiB | 4.00 ms | 0.40× | 8.00× (musl-static) | 2.00× | 4.00 ms | 0.40× | 8.00× (musl-static) | 2.00× |",
	} {
		if !strings.Contains(short.String(), want) {
			t.Errorf("short table lacks %q:\n%s", want, short.String())
		}
	}
	svg, err := chartSVG(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("rust-minimal")) {
		t.Errorf("chart is not an SVG naming the variants: %.200s", svg)
	}
	if _, err := chartSVG(&Report{}); err == nil {
		t.Error("chart of nothing: no error")
	}
}
