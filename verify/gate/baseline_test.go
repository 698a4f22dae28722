package gate

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/verify"
)

func testBaseline() *Baseline {
	samples := initSamples(spread(100, 1))
	samples[0].WarmMs = []float64{0.5, 0.25}
	b := NewBaseline(samples, time.Date(2026, 11, 26, 12, 0, 0, 0, time.FixedZone("CET", 3600)))
	b.FnoptVersion = "v0.1.0"
	b.Target = "."
	b.Revision = "0123456789abcdef0123456789abcdef01234567"
	b.Machine = verify.Machine{CPU: "Test CPU", CPUs: 2, Kernel: "6.1.0", Arch: "amd64"}
	b.Settings = Settings{Samples: 31, Warm: 0}
	b.Sizes = map[string]int64{"bootstrap": 5 << 20, "zip": 2 << 20}
	b.Artifact = "zip"
	return b
}

func TestBaselineRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.json")
	want := testBaseline()
	if err := SaveBaseline(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if got.Created.Location() != time.UTC || got.Created.Hour() != 11 {
		t.Errorf("created %v, want 11:00 UTC", got.Created)
	}
	s := got.Summary[verify.MetricInit]
	if s.N != 31 || s.P50 != 100 || s.P90 != 112 || s.Min != 85 || s.Max != 115 || s.Mean != 100 {
		t.Errorf("init summary %+v", s)
	}
	if w := got.Summary[verify.MetricWarmInvoke]; w.N != 2 {
		t.Errorf("warm summary %+v, want 2 values", w)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"schema": "fnopt.baseline/v1"`) {
		t.Errorf("file does not start with the schema:\n%s", data[:80])
	}
}

func TestLoadBaselineErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "hello", "is not JSON"},
		{"other format", `{"schema":"fnopt.verify/v1"}`, `has schema "fnopt.verify/v1", want "fnopt.baseline/v1"`},
		{"newer version", `{"schema":"fnopt.baseline/v2"}`, "another fnopt version"},
		{"unknown field", `{"schema":"fnopt.baseline/v1","samples":[{"init_ms":1}],"extra":1}`, "unknown field"},
		{"no samples", `{"schema":"fnopt.baseline/v1","samples":[]}`, "no samples"},
		{"negative time", `{"schema":"fnopt.baseline/v1","samples":[{"init_ms":-1}]}`, "invalid time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "b.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadBaseline(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if err != nil && strings.Contains(err.Error(), "--") {
				t.Errorf("error %q names a flag", err)
			}
		})
	}
	if _, err := LoadBaseline(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestSchemaError(t *testing.T) {
	tests := []struct {
		schema       string
		otherVersion bool
	}{
		{"fnopt.baseline/v2", true},
		{"fnopt.baseline/v0", true},
		{"fnopt.verify/v1", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "b.json")
			if err := os.WriteFile(path, []byte(`{"schema":"`+tt.schema+`"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadBaseline(path)
			var se *SchemaError
			if !errors.As(err, &se) || se.Path != path || se.Schema != tt.schema {
				t.Fatalf("error %#v, want a *SchemaError for %s with schema %q", err, path, tt.schema)
			}
			if se.OtherVersion() != tt.otherVersion {
				t.Errorf("OtherVersion = %v, want %v", se.OtherVersion(), tt.otherVersion)
			}
		})
	}
}

func TestSaveBaselineKeepsFileOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.json")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := NewBaseline(nil, time.Now())
	if err := SaveBaseline(path, empty); err == nil {
		t.Fatal("saving a baseline without samples: no error")
	}
	if data, _ := os.ReadFile(path); string(data) != "precious" {
		t.Errorf("file overwritten: %q", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("left files behind: %v", entries)
	}
}

func TestBaselineDifferences(t *testing.T) {
	b := testBaseline()
	if d := b.Differences(b.Machine, b.Settings); len(d) != 0 {
		t.Errorf("same machine and settings: %q", d)
	}
	m := b.Machine
	m.CPU = "Other CPU"
	s := b.Settings
	s.MemoryMB = 128
	d := b.Differences(m, s)
	if len(d) != 2 || !strings.Contains(d[0], "CPU was Test CPU, now Other CPU") || !strings.Contains(d[1], "memory") {
		t.Errorf("differences %q", d)
	}
}
