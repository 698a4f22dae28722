package verify

import (
	"reflect"
	"testing"

	"github.com/fnopt/fnopt/internal/function/config"
)

// TestCheckBudgets: budgets are plain limits on type-7 quantiles of the
// init samples and on the shipped artifact; exceeding means strictly
// greater; a zero budget is none; a figure that is not known leaves its
// budget unchecked, and says why, instead of passing it.
func TestCheckBudgets(t *testing.T) {
	// init 1..10 ms: p50 5.5, p90 9.1.
	var samples []Sample
	for i := 1; i <= 10; i++ {
		samples = append(samples, Sample{InitMs: float64(i)})
	}
	tests := []struct {
		name      string
		budgets   config.Budgets
		samples   []Sample
		size      int64
		why       string
		want      []BudgetResult
		unchecked []string
	}{
		{name: "no budgets", samples: samples, size: 100},
		{name: "within", budgets: config.Budgets{InitP50Ms: 6, InitP90Ms: 10, ArtifactBytes: 100}, samples: samples, size: 100,
			want: []BudgetResult{{BudgetInitP50, 6, 5.5, false}, {BudgetInitP90, 10, 9.1, false}, {BudgetArtifactBytes, 100, 100, false}}},
		{name: "over", budgets: config.Budgets{InitP50Ms: 5, InitP90Ms: 9, ArtifactBytes: 99}, samples: samples, size: 100,
			want: []BudgetResult{{BudgetInitP50, 5, 5.5, true}, {BudgetInitP90, 9, 9.1, true}, {BudgetArtifactBytes, 99, 100, true}}},
		{name: "equal passes", budgets: config.Budgets{InitP50Ms: 5.5}, samples: samples,
			want: []BudgetResult{{BudgetInitP50, 5.5, 5.5, false}}},
		{name: "size unknown", budgets: config.Budgets{ArtifactBytes: 99}, samples: samples, why: "the arm64 zip was not built",
			unchecked: []string{"budget artifact_bytes not checked: the arm64 zip was not built"}},
		{name: "size unknown, no reason", budgets: config.Budgets{ArtifactBytes: 99}, samples: samples,
			unchecked: []string{"budget artifact_bytes not checked: the artifact's size is unknown"}},
		{name: "no samples", budgets: config.Budgets{InitP50Ms: 5}, size: 1,
			unchecked: []string{"budget init_p50_ms not checked: no cold start was measured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CheckBudgets(tt.budgets, tt.samples, tt.size, tt.why)
			for i := range c.Results {
				c.Results[i].Value = float64(int(c.Results[i].Value*1000+0.5)) / 1000
			}
			if !reflect.DeepEqual(c.Results, tt.want) || !reflect.DeepEqual(c.Unchecked, tt.unchecked) {
				t.Errorf("got %+v, unchecked %q\nwant %+v, unchecked %q", c.Results, c.Unchecked, tt.want, tt.unchecked)
			}
		})
	}
}

func TestBudgetResultString(t *testing.T) {
	for _, tt := range []struct {
		b    BudgetResult
		want string
	}{
		{BudgetResult{Name: BudgetInitP50, Limit: 15, Value: 3.14159}, "init_p50_ms 3.14 ms (limit 15.00 ms)"},
		{BudgetResult{Name: BudgetInitP50, Limit: 0.001, Value: 3}, "init_p50_ms 3.00 ms (limit 0.001 ms)"},
		{BudgetResult{Name: BudgetArtifactBytes, Limit: 1000, Value: 2048}, "artifact_bytes 2.0 KiB (limit 1000 B)"},
	} {
		if got := tt.b.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
