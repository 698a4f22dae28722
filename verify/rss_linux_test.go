package verify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// lostRSSStarter starts its target's processes as they are, except that
// every other one reports no peak RSS, as a process that ended before its
// VmHWM could be read does.
type lostRSSStarter struct {
	Starter
	started int
}

func (s *lostRSSStarter) Start(ctx context.Context, spec StartSpec) (Process, error) {
	p, err := s.Starter.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	s.started++
	return &lostRSSProcess{Process: p, lost: s.started%2 == 0}, nil
}

type lostRSSProcess struct {
	Process
	lost bool
}

func (p *lostRSSProcess) MaxRSS() int64 {
	if p.lost {
		return 0
	}
	return p.Process.MaxRSS()
}

// release hands on the host process's reaping of its group.
func (p *lostRSSProcess) release() error {
	if r, ok := p.Process.(releaser); ok {
		return r.release()
	}
	return nil
}

// TestMissingRSSIsNotZero: a sample whose peak RSS could not be read
// records it as missing: left out of the sample's JSON and of the values
// every summary is made of, so that no minimum, mean or quantile counts it
// as 0 bytes.
func TestMissingRSSIsNotZero(t *testing.T) {
	tg := fakeTarget(t, "echo")
	tg.Starter = &lostRSSStarter{Starter: tg.Starter}
	runs := measure(t, Options{Samples: 6}, tg)
	if !runs[0].OK() {
		t.Fatal(runs[0].Failure)
	}
	samples := runs[0].Samples
	rss := Values(samples, MetricMaxRSS)
	if len(rss) != 3 || Missing(samples, MetricMaxRSS) != 3 {
		t.Fatalf("peak RSS values %v, %d missing: want 3 measured and 3 missing of 6", rss, Missing(samples, MetricMaxRSS))
	}
	for _, v := range rss {
		if v <= 0 {
			t.Errorf("peak RSS value %v", v)
		}
	}
	if got := len(Values(samples, MetricInit)); got != 6 {
		t.Errorf("%d init values of 6 samples", got)
	}
	b, err := json.Marshal(samples[1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "max_rss_bytes") {
		t.Errorf("a missing peak RSS is in the JSON: %s", b)
	}
}
