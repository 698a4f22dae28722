package gate

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/verify"
)

func TestPlot(t *testing.T) {
	r := fixtureResults(t)["fail"]
	dir := t.TempDir()
	tests := []struct {
		file   string
		metric verify.Metric
		magic  []byte
	}{
		{"init.svg", verify.MetricInit, []byte("<?xml")},
		{"init.PNG", verify.MetricInit, []byte("\x89PNG\r\n\x1a\n")},
		{"rss.svg", verify.MetricMaxRSS, []byte("<?xml")},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if err := Plot(path, r, tt.metric); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, tt.magic) {
				t.Errorf("%s starts with %q", tt.file, data[:min(len(data), 16)])
			}
			if strings.HasSuffix(tt.file, ".svg") && !bytes.Contains(data, []byte("median")) {
				t.Errorf("%s has no legend", tt.file)
			}
		})
	}
}

func TestPlotErrors(t *testing.T) {
	r := fixtureResults(t)["pass"]
	dir := t.TempDir()
	for _, tt := range []struct {
		file   string
		metric verify.Metric
		want   string
	}{
		{"chart.pdf", verify.MetricInit, ".svg or .png"},
		{"warm.svg", verify.MetricWarmInvoke, "no warm invoke values"},
		{filepath.Join("missing", "x.svg"), verify.MetricInit, "writing plot"},
	} {
		err := Plot(filepath.Join(dir, tt.file), r, tt.metric)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.file, err, tt.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed plots left files: %v", entries)
	}
}
