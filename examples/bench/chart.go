package main

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/fnopt/fnopt/internal/chart"
)

// chartSVG draws, above, grouped bars per variant: init p50 and p90 in
// each regime, so the gap between the rows, the spread within each and
// what the page cache changes can be read at a glance; below, each
// variant's init p50 as a multiple of the floor of its own linkage and,
// for Go, of go-floor.
func chartSVG(r *Report) ([]byte, error) {
	p, err := chartPlot(r)
	if err != nil {
		return nil, err
	}
	q, err := ratioPlot(r)
	if err != nil {
		return nil, err
	}
	// A font every viewer has or matches, and each legend below its
	// bars, where no substitute font can push it over them or off the
	// canvas (internal/chart).
	for _, pl := range []*plot.Plot{p, q} {
		chart.UseSans(pl)
		pl.Legend.TextStyle.Font.Size = vg.Points(10)
		pl.Legend.Padding = vg.Points(2)
	}
	c, err := chart.Canvas("svg", vg.Points(760), vg.Points(760))
	if err != nil {
		return nil, err
	}
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(10), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4)}
	canvases := plot.Align([][]*plot.Plot{{p}, {q}}, tiles, draw.New(c))
	chart.Draw(canvases[0][0], p)
	chart.Draw(canvases[1][0], q)
	return chart.Bytes(c)
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
	slantNames(p)
	// A little room above the tallest bar.
	p.Y.Min, p.Y.Max = 0, top*1.05
	return p, nil
}

// ratioPlot lays out the lower chart: init p50 ÷ the row's own floor, per
// regime, and ÷ go-floor for the Go rows.
func ratioPlot(r *Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Init p50 ÷ the floor of the row's linkage (Go rows: also ÷ go-floor); 1 = floor"
	p.Y.Label.Text = "ratio"
	p.Add(plotter.NewGrid())
	own := []color.Color{color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}}
	gof := []color.Color{color.RGBA{R: 0x9e, G: 0xc4, B: 0xe0, A: 0xff}, color.RGBA{R: 0xff, G: 0xc8, B: 0x94, A: 0xff}}
	type series struct {
		label string
		vals  plotter.Values
		color color.Color
	}
	var all []series
	top := 1.0
	for i, g := range r.Regimes {
		short, _, _ := strings.Cut(g.Name, " (")
		o, gf := make(plotter.Values, len(g.Rows)), make(plotter.Values, len(g.Rows))
		for j, row := range g.Rows {
			o[j], gf[j] = row.InitVsOwnFloor, row.InitVsGoFloor
			top = max(top, o[j], gf[j])
		}
		all = append(all, series{short + ": ÷ own floor", o, own[i%len(own)]}, series{short + ": ÷ go-floor", gf, gof[i%len(gof)]})
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
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Color = color.Gray{Y: 0x40}
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	names := make([]string, len(r.Regimes[0].Rows))
	for i, row := range r.Regimes[0].Rows {
		names[i] = row.Name
	}
	p.NominalX(names...)
	slantNames(p)
	p.Y.Min, p.Y.Max = 0, top*1.05
	return p, nil
}

// slantNames tilts the variant names so that ten of them fit side by side.
func slantNames(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
}
