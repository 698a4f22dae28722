// Package chart renders fnopt's charts (the gate's distributions, the
// benchmark's bars) so that they read alike wherever they are opened.
//
// gonum/plot lays text out with the metrics of the font it embeds
// (Liberation), but an SVG only names its font: a viewer without it
// substitutes another, with other widths, and text laid out to end at the
// canvas's edge runs over it. So charts use Liberation Sans, which Arial
// and Helvetica match metric for metric, and name those in the SVG as
// fallbacks before the generic family; and a legend is drawn in a strip of
// its own below its plot, left-aligned, where a wider substitute runs into
// empty space instead of over the data or off the canvas.
package chart

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Sans is the charts' typeface: Liberation Sans, embedded in gonum/plot,
// and metric-compatible with Arial and Helvetica.
var Sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// svgFamily is how an SVG names Sans: the font itself, its
// metric-compatible equivalents, then any sans-serif font.
const svgFamily = "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"

// UseSans sets every text of p (title, axis labels, tick labels, legend)
// in Sans, at the sizes they have.
func UseSans(p *plot.Plot) {
	for _, f := range []*font.Font{
		&p.Title.TextStyle.Font,
		&p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font,
		&p.Legend.TextStyle.Font,
	} {
		f.Typeface, f.Variant = Sans.Typeface, Sans.Variant
	}
}

// margin is left free around a chart, and legendGap between a plot and
// its legend strip, in points; slack is the share of the legend's laid-out
// size left free for a substitute font that is wider or taller (DejaVu
// Sans, the usual last resort, is about 15% wider than Liberation Sans).
const (
	margin    vg.Length = 6
	legendGap vg.Length = 6
	slack               = 1.25
)

// Draw draws p on c with p's legend, when it has entries, in a strip
// along c's bottom: one entry a line, thumbnail first, left-aligned. p's
// legend is moved out of p to do so.
func Draw(c draw.Canvas, p *plot.Plot) {
	c = draw.Crop(c, margin, -margin, margin, -margin)
	legend := p.Legend
	p.Legend = plot.NewLegend() // no entries: p draws none inside
	size := legend.Rectangle(c).Size()
	if size.Y == 0 {
		p.Draw(c)
		return
	}
	// Labels (file names, revisions) can be longer than the chart is
	// wide: a smaller font then, so that the widest fits with room to
	// spare.
	if w := c.Size().X / slack; size.X > w {
		legend.TextStyle.Font.Size *= w / size.X
		size = legend.Rectangle(c).Size()
	}
	h := size.Y * slack
	plotArea := c
	plotArea.Min.Y += h + legendGap
	p.Draw(plotArea)
	strip := c
	strip.Max.Y = c.Min.Y + h
	// Under the data, not under the y axis's labels, unless the labels
	// need that room too.
	if x := p.DataCanvas(plotArea).Min.X; strip.Max.X-x >= size.X*slack {
		strip.Min.X = x
	}
	legend.Top, legend.Left = true, true
	legend.XOffs, legend.YOffs = 0, 0
	legend.Draw(strip)
}

// Canvas is a new white canvas of w × h for format, "svg" or "png": its
// margins and the gaps between plots are white too, not transparent (which
// reads as a frame on a dark page).
func Canvas(format string, w, h vg.Length) (vg.CanvasWriterTo, error) {
	var c vg.CanvasWriterTo
	switch format {
	case "svg":
		c = vgsvg.New(w, h)
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	default:
		return nil, fmt.Errorf("chart format %q: use svg or png", format)
	}
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	return c, nil
}

// Bytes writes c, and for an SVG names the fallbacks of the charts' font
// (see the package comment).
func Bytes(c vg.CanvasWriterTo) ([]byte, error) {
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("rendering the chart: %w", err)
	}
	if _, ok := c.(*vgsvg.Canvas); ok {
		return bytes.ReplaceAll(b.Bytes(), []byte("font-family:Liberation Sans;"), []byte(svgFamily)), nil
	}
	return b.Bytes(), nil
}

// Render draws p with its legend below it (Draw) on a w × h canvas of
// format and returns the file's bytes.
func Render(p *plot.Plot, format string, w, h vg.Length) ([]byte, error) {
	c, err := Canvas(format, w, h)
	if err != nil {
		return nil, err
	}
	Draw(draw.New(c), p)
	return Bytes(c)
}
