package chart

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/fnopt/fnopt/internal/testenv"
)

// longPlot is a line plot whose legend labels are as long as the gate's
// can be (labels name files and revisions).
func longPlot(t *testing.T) *plot.Plot {
	t.Helper()
	p := plot.New()
	p.Title.Text = "init: distribution before and after"
	p.X.Label.Text = "init (ms)"
	p.Y.Label.Text = "fraction of samples ≤ x"
	for i, label := range []string{
		"before: baseline perf/baseline-of-the-main-branch.json (2026-11-26 12:00 UTC, 1a2b3c4) (median 3.00 ms)",
		"after: this run (./functions/orders-service-with-a-long-name) (median 3.50 ms)",
	} {
		l, err := plotter.NewLine(plotter.XYs{{X: 1 + float64(i), Y: 0}, {X: 2 + float64(i), Y: 1}})
		if err != nil {
			t.Fatal(err)
		}
		p.Add(l)
		p.Legend.Add(label, l)
	}
	UseSans(p)
	return p
}

// TestSVGNamesFallbacks: an SVG chart names its font with the families
// that share its metrics, then the generic one, never a font alone.
func TestSVGNamesFallbacks(t *testing.T) {
	svg, err := Render(longPlot(t), "svg", 8*vg.Inch, 5*vg.Inch)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(svg, []byte("font-family:")); n == 0 || n != bytes.Count(svg, []byte(svgFamily)) {
		t.Errorf("%d font-family declarations, %d of them with the fallbacks:\n%.600s", n, bytes.Count(svg, []byte(svgFamily)), svg)
	}
	if bytes.Contains(svg, []byte("Serif")) {
		t.Error("the chart names a serif font")
	}
}

// TestRenderedChartStaysOnTheCanvas renders the SVG as a viewer would
// (rsvg-convert, with whatever fonts this machine has, maybe none of the
// named ones) and checks that nothing is drawn in the chart's margin: no
// text runs over an edge. PNG charts, drawn with the embedded font, are
// checked alike.
func TestRenderedChartStaysOnTheCanvas(t *testing.T) {
	for _, format := range []string{"svg", "png"} {
		t.Run(format, func(t *testing.T) {
			b, err := Render(longPlot(t), format, 8*vg.Inch, 5*vg.Inch)
			if err != nil {
				t.Fatal(err)
			}
			var img image.Image
			if format == "svg" {
				img = testenv.RenderSVG(t, b)
			} else if img, err = png.Decode(bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			// The margin is 6 pt, 6 px at 72 dpi (both renderings):
			// nothing may be drawn in the outer 4.
			if edges := testenv.InkedEdges(img, 4); len(edges) > 0 {
				t.Errorf("the %s chart is drawn up to its %s edge: text runs off the canvas", format, strings.Join(edges, ", "))
			}
		})
	}
}
