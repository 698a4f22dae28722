package main

import (
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/testenv"
)

// TestChartRendersWhole: the benchmark's chart, rendered as a viewer
// renders it (rsvg-convert, with this machine's fonts, which may lack the
// one named), has nothing cut off at its edges.
func TestChartRendersWhole(t *testing.T) {
	built := builtOf(allRows...)
	rep := &Report{Schema: "fnopt.bench/v2", Samples: 7, Artifacts: newArtifacts(built)}
	for _, cold := range []bool{true, false} {
		g, err := newRegime("Regime (cold "+map[bool]string{true: "yes", false: "no"}[cold]+")", cold, built, runsOf(10, 7, 4, 3, 1.5, 2, 1.5, 1, 0.5))
		if err != nil {
			t.Fatal(err)
		}
		rep.Regimes = append(rep.Regimes, g)
	}
	svg, err := chartSVG(rep)
	if err != nil {
		t.Fatal(err)
	}
	if edges := testenv.InkedEdges(testenv.RenderSVG(t, svg), 4); len(edges) > 0 {
		t.Errorf("the rendered chart is cut off at its %s edge", strings.Join(edges, ", "))
	}
}
