package verifycmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/internal/version"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/stats"
)

// AWSReport is `fnopt verify --target aws` as --json prints it: the
// fnopt.verify/v1 document, whose top-level figures are those of the
// first configuration (a reader of v1 that knows nothing of Lambda reads
// them as one measurement), with what Lambda adds: where it ran, every
// configuration with its figures, cost and raw samples.
type AWSReport struct {
	*Report
	// Platform is "aws"; a local report has none.
	Platform string `json:"platform"`
	Region   string `json:"region"`
	Account  string `json:"account"`
	// Rounds, Throttled and Conflicts say how the measurement went.
	Rounds         int                        `json:"rounds"`
	Throttled      int64                      `json:"throttled_calls"`
	Conflicts      int64                      `json:"conflicting_calls"`
	Configurations []AWSConfiguration         `json:"configurations"`
	Kept           []string                   `json:"kept_functions,omitempty"`
	Raw            []awslambda.Sample         `json:"raw_samples"`
	Prices         map[string]awslambda.Price `json:"prices"`
}

// AWSConfiguration is one temporary function's figures.
type AWSConfiguration struct {
	*awslambda.Configuration
	InitMs        stats.Summary  `json:"init_ms"`
	FirstInvokeMs stats.Summary  `json:"first_invoke_ms"`
	ColdStartMs   stats.Summary  `json:"cold_start_ms"`
	RoundTripMs   stats.Summary  `json:"round_trip_ms"`
	BilledMs      stats.Summary  `json:"billed_duration_ms"`
	MaxMemory     stats.Summary  `json:"max_memory_used_bytes"`
	WarmInvokeMs  *stats.Summary `json:"warm_invoke_ms"`
}

func newAWSReport(target string, res *awslambda.Result, ao awslambda.Options) *AWSReport {
	r := &AWSReport{Platform: "aws", Region: res.Region, Account: res.Account, Rounds: res.Rounds,
		Throttled: res.Throttled, Conflicts: res.Conflicts, Kept: res.Kept, Raw: []awslambda.Sample{},
		Prices: map[string]awslambda.Price{}}
	for i, c := range res.Configurations {
		samples := c.VerifySamples()
		ac := AWSConfiguration{
			Configuration: c,
			InitMs:        stats.Summarize(verify.Values(samples, verify.MetricInit)),
			FirstInvokeMs: stats.Summarize(verify.Values(samples, verify.MetricFirstInvoke)),
			ColdStartMs:   stats.Summarize(verify.Values(samples, verify.MetricColdStart)),
			MaxMemory:     stats.Summarize(verify.Values(samples, verify.MetricMaxRSS)),
		}
		var rt, billed []float64
		for _, s := range c.Samples {
			rt, billed = append(rt, s.RoundTripMs), append(billed, s.BilledMs)
		}
		ac.RoundTripMs, ac.BilledMs = stats.Summarize(rt), stats.Summarize(billed)
		if len(c.WarmMs) > 0 {
			s := stats.Summarize(c.WarmMs)
			ac.WarmInvokeMs = &s
		}
		r.Configurations = append(r.Configurations, ac)
		r.Prices[string(c.Arch)] = c.Cost.Price
		if i == 0 {
			// The v1 fields: the first configuration, as verify reports
			// one measurement.
			run := verify.Run{Target: &verify.Target{Name: target, Arch: c.Arch, Artifacts: c.Artifacts}, Samples: samples}
			mo := verify.Options{Samples: ao.Samples, Warm: ao.Warm, Function: verify.Function{MemoryMB: c.MemoryMB}, Event: ao.Event, Expect: ao.Expect, Timeout: ao.Timeout}
			r.Report = NewReport(run, mo, verify.ThisMachine())
			if c.WarmMs != nil {
				r.Report.WarmInvokeMs = ac.WarmInvokeMs
			}
			r.Raw = c.Samples
		}
	}
	if r.Report == nil {
		r.Report = &Report{Schema: Schema, FnoptVersion: version.Get().Version, Target: target, OK: true, Raw: []verify.Sample{}}
	}
	return r
}

func writeAWSReport(o *Options, res *awslambda.Result, ao awslambda.Options) error {
	r := newAWSReport(o.Target, res, ao)
	if o.JSON {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	writeAWSText(o.IO.Out, r)
	return nil
}

// writeAWSFailure prints the --json document of a run stopped by the
// function's failure: what was measured until then, ok false, and the
// failure with the log tail.
func writeAWSFailure(o *Options, res *awslambda.Result, ao awslambda.Options, fe *awslambda.FunctionError) error {
	r := newAWSReport(o.Target, res, ao)
	r.OK = false
	r.Failure = &FailureReport{Phase: fe.Phase, Reason: "the function failed on Lambda (" + fe.Config + ", " + fe.Function + ")", ErrorType: fe.Type, ErrorMessage: fe.Message, Output: fe.Log}
	enc := json.NewEncoder(o.IO.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeAWSText prints one table per configuration, then the cost.
func writeAWSText(w io.Writer, r *AWSReport) {
	rounds := "rounds"
	if r.Rounds == 1 {
		rounds = "round"
	}
	fmt.Fprintf(w, "%s on AWS Lambda (%s, account %s): %d %s\n", r.Target, r.Region, r.Account, r.Rounds, rounds)
	for _, c := range r.Configurations {
		fmt.Fprintf(w, "\n%s (%s, %s): %d cold starts\n", c.Label, c.Function, strings.ToLower(c.Package), len(c.Samples))
		t := newSummaryTable(w)
		t.row("init", c.InitMs, msText)
		t.row("first invoke", c.FirstInvokeMs, msText)
		t.row("cold start", c.ColdStartMs, msText)
		t.row("round trip", c.RoundTripMs, msText)
		if c.WarmInvokeMs != nil {
			t.row("warm invoke", *c.WarmInvokeMs, msText)
		}
		t.row("max memory", c.MaxMemory, bytesize.Float)
		t.flush()
		var sizes []string
		for _, a := range c.Artifacts {
			sizes = append(sizes, a.Name+" "+bytesize.Format(a.Bytes))
		}
		fmt.Fprintf(w, "artifact: %s\n", strings.Join(sizes, ", "))
		fmt.Fprintf(w, "cost: %s per cold start, %s per 1M warm invocations; this run %d invocations, %.4f GB-s, %s\n",
			usd(c.Cost.ColdStartUSD), usd(c.Cost.WarmMillionUSD), c.Invocations, c.Cost.RunGBSeconds, usd(c.Cost.RunUSD))
	}
	fmt.Fprintf(w, "\nprices: Lambda's list prices in %s as of %s (other regions differ); init is Lambda's Init Duration\n", awslambda.PricesRegion, awslambda.PricesAsOf)
	if r.Throttled > 0 || r.Conflicts > 0 {
		fmt.Fprintf(w, "retried: %d throttled calls, %d calls during an update\n", r.Throttled, r.Conflicts)
	}
	if len(r.Kept) > 0 {
		fmt.Fprintf(w, "kept: %s (delete them when done)\n", strings.Join(r.Kept, ", "))
	} else {
		fmt.Fprintln(w, "temporary functions deleted")
	}
	fmt.Fprintln(w, "ok")
}

// usd prints a price with the digits that matter.
func usd(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case v >= 0.01:
		return fmt.Sprintf("$%.2f", v)
	}
	return fmt.Sprintf("$%.3g", v)
}

// awsProgress shows on a terminal what the run is doing: a spinner with
// the stage, then a bar over the cold starts.
type awsProgress struct {
	*progress
}

func newAWSProgress(ios *cmdutil.IOStreams) *awsProgress {
	return &awsProgress{progress: newProgress(ios, "connecting to AWS")}
}

func (p *awsProgress) Stage(what string) {
	if p.bar != nil && p.bar.GetMax() == -1 {
		p.bar.Describe(what)
	}
}

func (p *awsProgress) Samples(done, total int) { p.progress.samples(done, total) }

var _ awslambda.Progress = (*awsProgress)(nil)
