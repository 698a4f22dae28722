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

func builtOf(names ...string) []Built {
	out := make([]Built, len(names))
	for i, n := range names {
		out[i] = Built{Variant: Variant{Name: n, What: n + " build"}, Command: "make " + n, BinaryBytes: 2 << 20, ZipBytes: 1 << 20}
	}
	return out
}

func TestNewRegimeTargets(t *testing.T) {
	names := []string{"go-plain", "go-tuned", "go-minimal", "rust-minimal", "floor"}
	for _, tc := range []struct {
		name  string
		inits []float64 // init ms per name
		met   []bool    // per goal, in goals() order
		vsFlr float64   // rust-minimal init ÷ floor
	}{
		{"all met", []float64{10, 6.5, 4.5, 1.6, 1}, []bool{true, true, true, true}, 1.6},
		{"all missed", []float64{10, 6.6, 4.6, 3.6, 1}, []bool{false, false, false, false}, 3.6},
		{"only rust vs floor missed", []float64{10, 6, 4, 2, 1}, []bool{true, true, true, false}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := newRegime("test", true, builtOf(names...), runsOf(tc.inits...))
			if err != nil {
				t.Fatal(err)
			}
			if len(g.Targets) != len(tc.met) {
				t.Fatalf("%d targets, want %d", len(g.Targets), len(tc.met))
			}
			for i, tg := range g.Targets {
				if tg.Met != tc.met[i] {
					t.Errorf("%s: met = %v (%.3f× against ≤ %.2f×), want %v", tg.Name, tg.Met, tg.Measured, tg.Limit, tc.met[i])
				}
			}
			rust := g.Rows[3]
			if math.Abs(rust.InitVsFloor-tc.vsFlr) > 1e-9 || math.Abs(rust.InitVsPlain-tc.inits[3]/10) > 1e-9 {
				t.Errorf("rust-minimal ratios = %.3f× floor, %.3f× go-plain", rust.InitVsFloor, rust.InitVsPlain)
			}
			if want := (tc.inits[3] + 1) / 11; math.Abs(rust.ColdVsPlain-want) > 1e-9 {
				t.Errorf("cold start ratio = %.3f, want %.3f", rust.ColdVsPlain, want)
			}
		})
	}
}

func TestNewRegimeNeedsReferenceRows(t *testing.T) {
	if _, err := newRegime("test", false, builtOf("go-tuned", "floor"), runsOf(1, 1)); err == nil {
		t.Error("no error without a go-plain row")
	}
	if _, err := newRegime("test", false, builtOf("go-plain"), runsOf(1, 2)); err == nil {
		t.Error("no error for more runs than variants")
	}
}

func TestReportOutputs(t *testing.T) {
	names := []string{"go-plain", "go-tuned", "go-minimal", "rust-minimal", "floor"}
	built := builtOf(names...)
	rep := &Report{Schema: "fnopt.bench/v1", Samples: 7, Artifacts: newArtifacts(built)}
	for _, cold := range []bool{true, false} {
		g, err := newRegime("Regime (cold "+map[bool]string{true: "yes", false: "no"}[cold]+")", cold, built, runsOf(10, 7, 4, 3, 1))
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
		"| go-tuned | 7.00 ms | 7.00 ms | 1.00 ms | 8.00 ms | 0.10 ms | 1.0 MiB | 2.0 MiB | 1.0 MiB | 0.70× | 7.00× | 0.73× | 4.00× |",
		"| Go tuned vs Go plain | 0.70× | ≤ 0.65× | **missed** by 8% |",
		"| Go minimal vs Go plain | 0.40× | ≤ 0.45× | met |",
		"- **floor**: floor build. `make floor`",
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
		"| variant | zip | init p50, regime | ÷ go-plain | init p50, regime | ÷ go-plain |",
		"| go-minimal | 1.0 MiB | 4.00 ms | 0.40× | 4.00 ms | 0.40× |",
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
