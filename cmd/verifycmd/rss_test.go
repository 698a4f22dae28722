package verifycmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify"
)

// TestReportMissingRSS: samples whose peak RSS could not be read are left
// out of its summary, in text and JSON, and a note says how many; when
// none was read the row says n/a and the JSON figures are null, never 0.
func TestReportMissingRSS(t *testing.T) {
	sample := func(init float64, rss int64) verify.Sample {
		return verify.Sample{InitMs: init, FirstInvokeMs: 1, ColdStartMs: init + 1, MaxRSSBytes: rss}
	}
	tests := []struct {
		name     string
		samples  []verify.Sample
		wantRow  string // the peak RSS row, spaces collapsed
		wantNote string
		wantJSON string // max_rss_bytes's n and min
	}{
		{"all read", []verify.Sample{sample(1, 4<<20), sample(2, 5<<20), sample(3, 6<<20)},
			"peak RSS 5.0 MiB 5.8 MiB 6.0 MiB 4.0 MiB 6.0 MiB 5.0 MiB n/a", "", `"n":3,"p50":5242880,"p90":6081740.8,"p99":6270484.48,"min":4194304`},
		{"one missing", []verify.Sample{sample(1, 4<<20), sample(2, 0), sample(3, 6<<20)},
			"peak RSS 5.0 MiB 5.8 MiB 6.0 MiB 4.0 MiB 6.0 MiB 5.0 MiB n/a", "peak RSS not read in 1 of 3 samples", `"n":2,"p50":5242880,"p90":6081740.8,"p99":6270484.48,"min":4194304`},
		{"none read", []verify.Sample{sample(1, 0), sample(2, 0)},
			"peak RSS n/a n/a n/a n/a n/a n/a n/a", "peak RSS not read in 2 of 2 samples", `"n":0,"p50":null,"p90":null,"p99":null,"min":null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := verify.Run{Target: &verify.Target{Name: "fn", Arch: settings.HostArch()}, Samples: tt.samples}
			rep := NewReport(run, verify.Options{}, verify.Machine{})
			var b strings.Builder
			WriteText(&b, rep)
			text := b.String()
			var row string
			for _, l := range strings.Split(text, "\n") {
				if strings.Contains(l, "peak RSS") && !strings.HasPrefix(l, "note:") {
					row = strings.Join(strings.Fields(l), " ")
				}
			}
			if row != tt.wantRow {
				t.Errorf("row %q\nwant %q", row, tt.wantRow)
			}
			if hasNote := strings.Contains(text, "note: peak RSS not read"); hasNote != (tt.wantNote != "") || !strings.Contains(text, tt.wantNote) {
				t.Errorf("want note %q:\n%s", tt.wantNote, text)
			}
			j, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(j), `"max_rss_bytes":{`+tt.wantJSON) {
				t.Errorf("JSON %s\nwant max_rss_bytes {%s...", j, tt.wantJSON)
			}
		})
	}
}
