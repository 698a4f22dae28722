package gate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify"
)

// TestPlotRendersWhole: the SVG plot, rendered as a viewer renders it
// (rsvg-convert, with this machine's fonts, which may lack the one named),
// has nothing cut off at its edges, long labels included, and names its
// font with fallbacks that share its metrics.
func TestPlotRendersWhole(t *testing.T) {
	r := fixtureResults(t)["fail"]
	r.Before.Label = "baseline perf/baseline-of-the-main-branch.json (2026-11-26 12:00 UTC, 1a2b3c4)"
	r.After.Label = "this run (./functions/orders-service)"
	path := filepath.Join(t.TempDir(), "init.svg")
	if err := Plot(path, r, verify.MetricInit); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")) {
		t.Errorf("the plot names no font with fallbacks:\n%.600s", svg)
	}
	if edges := testenv.InkedEdges(testenv.RenderSVG(t, svg), 4); len(edges) > 0 {
		t.Errorf("the rendered plot is cut off at its %s edge", strings.Join(edges, ", "))
	}
}
