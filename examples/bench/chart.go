package main

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chartSVG draws grouped bars per variant: init p50 and p90 in each
// regime, so the gap between the rows, the spread within each and what
// the page cache changes can be read at a glance.
func chartSVG(r *Report) ([]byte, error) {
	p, err := chartPlot(r)
	if err != nil {
		return nil, err
	}
	c := vgsvg.New(vg.Points(720), vg.Points(400))
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("writing the chart: %w", err)
	}
	return b.Bytes(), nil
}

// chartPlot lays out the chart.
func chartPlot(r *Report) (*plot.Plot, error) {
	if len(r.Regimes) == 0 {
		return nil, fmt.Errorf("nothing to chart: no regime measured")
	}
	p := plot.New()
	p.Title.Text = "Init (process start to first /next), local, one run; lower is better"
	p.Y.Label.Text = "milliseconds"
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = false

	palette := [][2]color.Color{
		{color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xae, G: 0xc7, B: 0xe8, A: 0xff}},
		{color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, color.RGBA{R: 0xff, G: 0xbb, B: 0x78, A: 0xff}},
	}
	type series struct {
		label string
		vals  plotter.Values
		color color.Color
	}
	var all []series
	top := 0.0
	for i, g := range r.Regimes {
		short, _, _ := strings.Cut(g.Name, " (")
		p50, p90 := make(plotter.Values, len(g.Rows)), make(plotter.Values, len(g.Rows))
		for j, row := range g.Rows {
			p50[j], p90[j] = row.Init.P50, row.Init.P90
			top = max(top, row.Init.P90)
		}
		c := palette[i%len(palette)]
		all = append(all, series{short + ": p50", p50, c[0]}, series{short + ": p90", p90, c[1]})
	}
	width := vg.Points(14)
	for i, s := range all {
		bars, err := plotter.NewBarChart(s.vals, width)
		if err != nil {
			return nil, fmt.Errorf("charting %s: %w", s.label, err)
		}
		bars.Color = s.color
		bars.LineStyle.Width = 0
		bars.Offset = width * (vg.Length(i) - vg.Length(len(all)-1)/2)
		p.Add(bars)
		p.Legend.Add(s.label, bars)
	}
	names := make([]string, len(r.Regimes[0].Rows))
	for i, row := range r.Regimes[0].Rows {
		names[i] = row.Name
	}
	p.NominalX(names...)
	// Room above the tallest bar for the legend.
	p.Y.Min, p.Y.Max = 0, top*1.25
	return p, nil
}
