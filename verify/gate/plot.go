package gate

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/fnopt/fnopt/internal/atomicfile"
	"github.com/fnopt/fnopt/internal/chart"
	"github.com/fnopt/fnopt/verify"
)

// Plot draws the empirical cumulative distributions of metric m before
// and after, with each side's median as a dashed line, and writes the
// chart to path; the extension (.svg or .png) picks the format. A CDF
// shows the whole distribution: a shift moves the curve right, extra
// noise flattens it, a slow tail bends its top.
func Plot(path string, r *Result, m verify.Metric) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "svg" && format != "png" {
		return fmt.Errorf("plot %s: the file name must end in .svg or .png", path)
	}
	before, after := verify.Values(r.Before.Samples, m), verify.Values(r.After.Samples, m)
	if len(before) == 0 || len(after) == 0 {
		return fmt.Errorf("plot %s: no %s values to draw", path, MetricLabel(m))
	}
	scale, unit := 1.0, "ms"
	if m == verify.MetricMaxRSS {
		scale, unit = 1.0/(1<<20), "MiB"
	}

	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: distribution before and after", MetricLabel(m))
	p.X.Label.Text = fmt.Sprintf("%s (%s)", MetricLabel(m), unit)
	p.Y.Label.Text = "fraction of samples ≤ x"
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())

	sides := []struct {
		label  string
		values []float64
		color  color.Color
	}{
		{"before: " + orUnnamed(r.Before.Label), before, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{"after: " + orUnnamed(r.After.Label), after, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}},
	}
	for _, s := range sides {
		cdf, err := plotter.NewLine(ecdf(s.values, scale))
		if err != nil {
			return fmt.Errorf("plotting %s: %w", s.label, err)
		}
		cdf.StepStyle = plotter.PostStep
		cdf.Color = s.color
		cdf.Width = vg.Points(1.5)
		med := Quantile(s.values, 0.5) * scale
		mline, err := plotter.NewLine(plotter.XYs{{X: med, Y: 0}, {X: med, Y: 1}})
		if err != nil {
			return fmt.Errorf("plotting the median of %s: %w", s.label, err)
		}
		mline.Color = s.color
		mline.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(cdf, mline)
		p.Legend.Add(fmt.Sprintf("%s (median %.2f %s)", s.label, med, unit), cdf)
	}
	p.Legend.ThumbnailWidth = vg.Points(20)
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.Padding = vg.Points(2)
	// A font every viewer has or matches, and the legend below the
	// curves, where no substitute font can push it over them or off the
	// canvas (internal/chart).
	chart.UseSans(p)
	b, err := chart.Render(p, format, 8*vg.Inch, 5*vg.Inch)
	if err != nil {
		return fmt.Errorf("rendering plot: %w", err)
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("writing plot: %w", err)
	}
	return nil
}

// ecdf returns the points of the empirical CDF of values: at the i-th
// smallest value the curve steps up to i/n. It starts at 0 so the first
// step is drawn.
func ecdf(values []float64, scale float64) plotter.XYs {
	s := slices.Clone(values)
	slices.Sort(s)
	pts := make(plotter.XYs, 0, len(s)+1)
	pts = append(pts, plotter.XY{X: s[0] * scale, Y: 0})
	for i, v := range s {
		pts = append(pts, plotter.XY{X: v * scale, Y: float64(i+1) / float64(len(s))})
	}
	return pts
}
