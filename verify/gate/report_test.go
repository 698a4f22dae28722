package gate

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/version"
	"github.com/fnopt/fnopt/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixtureSamples builds deterministic samples: init values around
// initMs, first invoke around 0.4 ms, peak RSS around 9 MiB.
func fixtureSamples(initMs, rssMiB float64) []verify.Sample {
	var out []verify.Sample
	for k := -15; k <= 15; k++ {
		init := initMs + float64(k)/64
		first := 0.4 + float64((k*7)%5)/128
		out = append(out, verify.Sample{
			InitMs: init, FirstInvokeMs: first, ColdStartMs: init + first,
			MaxRSSBytes: int64((rssMiB + float64(k%3)/16) * (1 << 20)),
		})
	}
	return out
}

func fixtureResults(t *testing.T) map[string]*Result {
	t.Helper()
	inputs := map[string]Input{
		"pass": {
			Before:     Side{Label: "base 1a2b3c4", Samples: fixtureSamples(3, 9), Sizes: map[string]int64{"bootstrap": 5_000_000, "zip": 2_000_000}, Artifact: "zip"},
			After:      Side{Label: "working tree", Samples: fixtureSamples(3.05, 9), Sizes: map[string]int64{"bootstrap": 5_010_000, "zip": 2_004_000}, Artifact: "zip"},
			Thresholds: DefaultThresholds(),
			Budgets:    config.Budgets{InitP50Ms: 5},
		},
		"fail": {
			Before:     Side{Label: "baseline.json (2026-11-26 12:00 UTC, 1a2b3c4)", Samples: fixtureSamples(3, 9), Sizes: map[string]int64{"bootstrap": 5_000_000, "zip": 2_000_000}, Artifact: "zip"},
			After:      Side{Label: "working tree", Samples: fixtureSamples(3.5, 12), Sizes: map[string]int64{"bootstrap": 5_600_000, "zip": 2_050_000}, Artifact: "zip"},
			Thresholds: DefaultThresholds(),
			Budgets:    config.Budgets{InitP50Ms: 3.25, InitP90Ms: 5, ArtifactBytes: 3_000_000},
		},
	}
	// Too few samples to tell anything at alpha 0.001: with 5 against 5
	// the smallest two-sided p is 2/252 ≈ 0.008.
	few := fixtureSamples(3, 9)[13:18]
	inputs["could-not-tell"] = Input{
		Before:     Side{Label: "base 1a2b3c4", Samples: few, Sizes: map[string]int64{"zip": 2_000_000}, Artifact: "zip"},
		After:      Side{Label: "working tree", Samples: few, Sizes: map[string]int64{"zip": 2_000_000}, Artifact: "zip"},
		Thresholds: Thresholds{Alpha: 0.001, MaxRegressionPct: 10, MinDeltaMs: 0.25, MaxSizeGrowthPct: 5},
		Strict:     true,
	}
	// An adaptive run that stopped at its second look, its repeated
	// interval below the threshold.
	inputs["adaptive"] = Input{
		Before:     Side{Label: "base 1a2b3c4", Samples: fixtureSamples(3, 9), Sizes: map[string]int64{"zip": 2_000_000}, Artifact: "zip"},
		After:      Side{Label: "working tree", Samples: fixtureSamples(3.01, 9), Sizes: map[string]int64{"zip": 2_000_000}, Artifact: "zip"},
		Thresholds: DefaultThresholds(),
		Sampling: Sampling{Adaptive: true, MaxSamples: 300, Looks: []Look{
			{N1: 20, N2: 20, Boundary: 2.78, Alpha: 0.0054, Shift: Estimate{Center: 0.01, Lo: -0.11, Hi: 0.13}, Threshold: 0.3, MDE: MDE{Power80: 0.15, Power95: 0.19, SE: 0.042, Alpha: 0.0054}, Stop: StopNone},
			{N1: 31, N2: 31, Boundary: 2.74, Alpha: 0.0061, Shift: Estimate{Center: 0.01, Lo: -0.08, Hi: 0.1}, Threshold: 0.3, MDE: MDE{Power80: 0.12, Power95: 0.15, SE: 0.034, Alpha: 0.0061}, Stop: StopWithin},
		}},
	}
	out := map[string]*Result{}
	for name, in := range inputs {
		r, err := Evaluate(in)
		if err != nil {
			t.Fatal(err)
		}
		if name == "fail" {
			r.Warnings = append(r.Warnings, "baseline CPU was Other CPU, now Test CPU")
		}
		out[name] = r
	}
	return out
}

func TestReportGolden(t *testing.T) {
	results := fixtureResults(t)
	for name, want := range map[string]int{"pass": 0, "fail": 1, "could-not-tell": 2, "adaptive": 0} {
		if got := results[name].ExitCode(); got != want {
			t.Fatalf("fixture %s exits %d, want %d", name, got, want)
		}
	}
	exts := map[Format]string{FormatText: "txt", FormatJSON: "json", FormatMarkdown: "md"}
	for name, r := range results {
		for f, ext := range exts {
			t.Run(name+"."+ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(&buf, r, f); err != nil {
					t.Fatal(err)
				}
				// The goldens hold a fixed version, whatever built the test.
				out := bytes.ReplaceAll(buf.Bytes(), []byte(`"fnopt_version": "`+version.Get().Version+`"`), []byte(`"fnopt_version": "VERSION"`))
				golden(t, filepath.Join("testdata", "report-"+name+"."+ext), out)
			})
		}
	}
}

func TestReportMarkdownVerdictFirst(t *testing.T) {
	for name, r := range fixtureResults(t) {
		var buf bytes.Buffer
		if err := WriteMarkdown(&buf, r); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(buf.String(), "\n")
		want := map[string]string{"pass": "### ✅ fnopt gate passed", "adaptive": "### ✅ fnopt gate passed", "fail": "### ❌ fnopt gate failed",
			"could-not-tell": "### ⚠️ fnopt gate could not tell"}[name]
		if first != want {
			t.Errorf("%s: first line %q, want %q", name, first, want)
		}
		if !strings.Contains(buf.String(), "```mermaid\nxychart-beta\n") {
			t.Errorf("%s: no mermaid chart", name)
		}
	}
}

func TestReportJSONDocument(t *testing.T) {
	r := fixtureResults(t)["fail"]
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var d Document
	if err := json.Unmarshal(buf.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Schema != ReportSchema || d.Pass || d.ExitCode != 1 || len(d.Failures) != 3 {
		t.Errorf("document: schema %q pass %v exit %d failures %q", d.Schema, d.Pass, d.ExitCode, d.Failures)
	}
	if d.Metrics[0].Metric != verify.MetricInit || d.Metrics[0].Change != ChangeRegression {
		t.Errorf("first metric %+v", d.Metrics[0])
	}
}

func TestNumberJSON(t *testing.T) {
	// Infinite interval bounds (too few samples) must not break the
	// encoder; they read back as NaN ("unknown").
	data, err := json.Marshal([]Number{1.5, Number(math.Inf(-1)), Number(math.NaN())})
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "[1.5,null,null]" {
		t.Errorf("encoded %s", data)
	}
	var back []Number
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back[0] != 1.5 || !math.IsNaN(float64(back[1])) {
		t.Errorf("decoded %v", back)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"text", "json", "markdown"} {
		if f, err := ParseFormat(s); err != nil || string(f) != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("html"); err == nil {
		t.Error("html accepted")
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{3.3, 5}, {0.42, 0.5}, {1, 1}, {12, 20}, {0, 1}, {101, 200}} {
		if got := niceCeil(tt.in); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("niceCeil(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// golden compares got with the file at path, or rewrites the file when
// the test runs with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
