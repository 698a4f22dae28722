package testenv

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RenderSVG renders an SVG as a viewer would, with rsvg-convert (Debian
// librsvg2-bin) and whatever fonts this machine has, and returns the
// image.
func RenderSVG(t testing.TB, svg []byte) image.Image {
	t.Helper()
	rsvg := LookPath(t, "rsvg-convert", "librsvg2-bin")
	path := filepath.Join(t.TempDir(), "chart.svg")
	if err := os.WriteFile(path, svg, 0o644); err != nil {
		t.Fatal(err)
	}
	// At 72 dpi a point is a pixel: charts of whole points have no
	// half-covered pixels at their edges.
	out, err := exec.Command(rsvg, "--dpi-x", "72", "--dpi-y", "72", path).Output()
	if err != nil {
		t.Fatalf("rsvg-convert: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// InkedEdges names the edges of img (right, bottom, left, top) with a
// pixel that is not nearly white (or is transparent) within px of them:
// a chart drawn up to its edge has text cut off there.
func InkedEdges(img image.Image, px int) []string {
	r := img.Bounds()
	var out []string
	for _, e := range []struct {
		name string
		rect image.Rectangle
	}{
		{"right", image.Rect(r.Max.X-px, r.Min.Y, r.Max.X, r.Max.Y)},
		{"bottom", image.Rect(r.Min.X, r.Max.Y-px, r.Max.X, r.Max.Y)},
		{"left", image.Rect(r.Min.X, r.Min.Y, r.Min.X+px, r.Max.Y)},
		{"top", image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+px)},
	} {
		if inked(img, e.rect) {
			out = append(out, e.name)
		}
	}
	return out
}

func inked(img image.Image, rect image.Rectangle) bool {
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if c.A < 0xf0 || c.R < 0xf0 || c.G < 0xf0 || c.B < 0xf0 {
				return true
			}
		}
	}
	return false
}
