package verify

import (
	"fmt"
	"slices"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/verify/stats"
)

// Budget names, as in fnopt.yaml and in every report.
const (
	BudgetInitP50       = "init_p50_ms"
	BudgetInitP90       = "init_p90_ms"
	BudgetArtifactBytes = "artifact_bytes"
)

// BudgetResult is one fnopt.yaml budget checked against a measurement.
type BudgetResult struct {
	// Name is the budget's key in fnopt.yaml (BudgetInitP50, ...).
	Name string `json:"name"`
	// Limit is the budget; Value what was measured, in the budget's unit
	// (ms, or bytes).
	Limit    float64 `json:"limit"`
	Value    float64 `json:"value"`
	Exceeded bool    `json:"exceeded"`
}

// String is the check as reports word it: "init_p50_ms 3.10 ms (limit
// 15.00 ms)".
func (b BudgetResult) String() string {
	return fmt.Sprintf("%s %s (limit %s)", b.Name, FormatBudget(b.Name, b.Value), FormatBudget(b.Name, b.Limit))
}

// FormatBudget renders a budget's limit or measured value in its unit.
func FormatBudget(name string, v float64) string {
	switch {
	case name == BudgetArtifactBytes:
		return bytesize.Format(int64(v))
	case v != 0 && v < 0.01:
		return fmt.Sprintf("%g ms", v) // a limit set this low is shown as set
	}
	return fmt.Sprintf("%.2f ms", v)
}

// BudgetCheck is fnopt.yaml's budgets applied to one measurement.
type BudgetCheck struct {
	// Results are the budgets that could be checked, in fnopt.yaml's
	// order.
	Results []BudgetResult
	// Unchecked say which budgets could not be checked and why, one
	// sentence each.
	Unchecked []string
}

// Exceeded are the budgets the measurement went over.
func (c BudgetCheck) Exceeded() []BudgetResult {
	var out []BudgetResult
	for _, r := range c.Results {
		if r.Exceeded {
			out = append(out, r)
		}
	}
	return out
}

// CheckBudgets applies b, fnopt.yaml's absolute budgets, to a measurement:
// the init samples' p50 and p90 (R type-7 quantiles, as every report
// computes them) and artifactBytes, the size of what ships (0 when it is
// not known: artifactUnknown says why, and the artifact budget is then
// unchecked rather than passed). A budget is exceeded when the value is
// strictly greater than the limit; a zero budget is none. Budgets are
// plain limits, no test: `fnopt verify` and the gate both apply them
// through this function.
func CheckBudgets(b config.Budgets, samples []Sample, artifactBytes int64, artifactUnknown string) BudgetCheck {
	var c BudgetCheck
	init := Values(samples, MetricInit)
	slices.Sort(init)
	for _, q := range []struct {
		name  string
		limit float64
		p     float64
	}{{BudgetInitP50, b.InitP50Ms, 0.5}, {BudgetInitP90, b.InitP90Ms, 0.9}} {
		switch {
		case q.limit <= 0:
		case len(init) == 0:
			c.Unchecked = append(c.Unchecked, fmt.Sprintf("budget %s not checked: no cold start was measured", q.name))
		default:
			v := stats.Quantile(init, q.p)
			c.Results = append(c.Results, BudgetResult{Name: q.name, Limit: q.limit, Value: v, Exceeded: v > q.limit})
		}
	}
	switch {
	case b.ArtifactBytes <= 0:
	case artifactBytes <= 0:
		if artifactUnknown == "" {
			artifactUnknown = "the artifact's size is unknown"
		}
		c.Unchecked = append(c.Unchecked, fmt.Sprintf("budget %s not checked: %s", BudgetArtifactBytes, artifactUnknown))
	default:
		c.Results = append(c.Results, BudgetResult{Name: BudgetArtifactBytes, Limit: float64(b.ArtifactBytes), Value: float64(artifactBytes), Exceeded: artifactBytes > b.ArtifactBytes})
	}
	return c
}
