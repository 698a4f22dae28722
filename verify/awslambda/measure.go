package awslambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fnopt/fnopt/verify"
)

// Sample is one cold start on Lambda, read from its REPORT line. Its
// verify.Sample fields mean what they mean locally, as Lambda measured
// them: init is Init Duration (for SnapStart, Restore Duration), first
// invoke is Duration, cold start is their sum, and the peak memory is Max
// Memory Used (whole MB). Warm invocations are not tied to a cold sample
// on Lambda; they are pooled in the configuration.
type Sample struct {
	verify.Sample
	// BilledMs is Billed Duration (for a custom runtime, init included).
	BilledMs float64 `json:"billed_duration_ms"`
	// RestoreMs is SnapStart's Restore Duration, when there was one.
	RestoreMs float64 `json:"restore_ms,omitempty"`
	// RoundTripMs is the Invoke call as the client saw it: from sending
	// the request until the response had arrived, network included.
	RoundTripMs float64 `json:"round_trip_ms"`
	// Round is the 1-based round the sample was taken in.
	Round     int    `json:"round"`
	RequestID string `json:"request_id"`
}

// measureOptions say how the rounds go.
type measureOptions struct {
	samples     int
	warm        int
	concurrency int
	event       []byte
	expect      *verify.Expect
	progress    func(done, total int)
}

// invocation is what one Invoke call returned.
type invocation struct {
	log       Log
	payload   []byte
	fnError   string // X-Amz-Function-Error
	roundTrip time.Duration
}

// measure takes cold samples of every function in rounds until each has
// o.samples. A round forces new execution environments (a new nonce) in
// every function still short of samples, waits until all are updated,
// then invokes them one after the other, each C times at once; the order
// is reversed every other round (A B, B A, ...), so that no configuration
// is always first and drift over the run hits all alike. The first round
// needs no change: a new function has no environment yet.
func measure(ctx context.Context, fl *fleet, fns []*function, confs []*Configuration, o measureOptions) (rounds int, err error) {
	total := o.samples * len(fns)
	// Each round should give C cold samples per function; rounds that
	// give none (a platform that reuses environments anyway) must not go
	// on for ever.
	maxRounds := 2*((o.samples+o.concurrency-1)/o.concurrency) + 3
	for round := 1; ; round++ {
		var todo []int
		for i, c := range confs {
			if len(c.Samples) < o.samples {
				todo = append(todo, i)
			}
		}
		if len(todo) == 0 {
			return round - 1, nil
		}
		if round > maxRounds {
			return round - 1, fmt.Errorf("after %d rounds, %s has %d of %d cold starts: Lambda kept reusing execution environments", maxRounds, confs[todo[0]].Label, len(confs[todo[0]].Samples), o.samples)
		}
		if round > 1 {
			if err := renew(ctx, fl, fns, todo); err != nil {
				return round, err
			}
		}
		if round%2 == 0 {
			for i, j := 0, len(todo)-1; i < j; i, j = i+1, j-1 {
				todo[i], todo[j] = todo[j], todo[i]
			}
		}
		for _, i := range todo {
			c := confs[i]
			k := min(o.concurrency, o.samples-len(c.Samples))
			invs, err := invokeBatch(ctx, fl, fns[i], k, o.event)
			if err != nil {
				return round, err
			}
			for _, inv := range invs {
				if err := c.take(inv, round, o.samples, o.expect); err != nil {
					return round, err
				}
			}
			for range o.warm {
				invs, err := invokeBatch(ctx, fl, fns[i], k, o.event)
				if err != nil {
					return round, err
				}
				for _, inv := range invs {
					if err := c.take(inv, round, 0, o.expect); err != nil {
						return round, err
					}
				}
			}
			if o.progress != nil {
				done := 0
				for _, c := range confs {
					done += min(len(c.Samples), o.samples)
				}
				o.progress(done, total)
			}
		}
	}
}

// renew gives the functions todo new nonces at once and waits for all.
func renew(ctx context.Context, fl *fleet, fns []*function, todo []int) error {
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for j, i := range todo {
		wg.Go(func() { errs[j] = fl.newEnvironments(ctx, fns[i]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// invokeBatch invokes fn k times at once (released together, so that no
// call finds an environment another has just freed) with the log tail.
func invokeBatch(ctx context.Context, fl *fleet, fn *function, k int, event []byte) ([]invocation, error) {
	invs := make([]invocation, k)
	errs := make([]error, k)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for j := range k {
		wg.Go(func() {
			<-start
			invs[j], errs[j] = invoke(ctx, fl, fn, event)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return invs, nil
}

// invoke calls fn once, synchronously, with the log tail. Throttling is
// retried (a throttled call never ran).
func invoke(ctx context.Context, fl *fleet, fn *function, event []byte) (invocation, error) {
	var inv invocation
	var out *lambda.InvokeOutput
	err := fl.backoff.do(ctx, fl.stats, func(ctx context.Context) error {
		sent := time.Now()
		var err error
		out, err = fl.acct.lambda.Invoke(ctx, &lambda.InvokeInput{
			FunctionName:   aws.String(fn.name),
			InvocationType: types.InvocationTypeRequestResponse,
			LogType:        types.LogTypeTail,
			Payload:        event,
		})
		inv.roundTrip = time.Since(sent)
		return err
	})
	if err != nil {
		return inv, fmt.Errorf("invoking %s: %w", fn.name, accessDenied(err))
	}
	inv.payload, inv.fnError = out.Payload, aws.ToString(out.FunctionError)
	tail, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		return inv, fmt.Errorf("invoking %s: the log tail is not base64: %v", fn.name, err)
	}
	if inv.log, err = ParseLog(string(tail)); err != nil {
		return inv, fmt.Errorf("invoking %s: %w", fn.name, err)
	}
	return inv, nil
}

// take records one invocation's outcome in c: a cold sample while c has
// fewer than want (0: none wanted), else a warm figure. A function error
// or an unexpected answer is the function's failure.
func (c *Configuration) take(inv invocation, round, want int, expect *verify.Expect) error {
	c.Invocations++
	r := inv.log.Report
	if inv.log.HasReport {
		c.billed = append(c.billed, r.BilledDurationMs)
	}
	if inv.fnError != "" {
		fe := &FunctionError{Function: c.Function, Config: c.Label, Phase: "invoke", Log: inv.log.Text}
		if inv.log.InitFailed {
			fe.Phase = "init"
		}
		var doc struct {
			Type    string `json:"errorType"`
			Message string `json:"errorMessage"`
		}
		if json.Unmarshal(inv.payload, &doc) == nil {
			fe.Type, fe.Message = doc.Type, doc.Message
		}
		if fe.Type == "" {
			fe.Type = inv.fnError
		}
		c.Failure = fe
		return fe
	}
	if expect != nil {
		if err := expect.Check(inv.payload); err != nil {
			fe := &FunctionError{Function: c.Function, Config: c.Label, Phase: "invoke", Message: err.Error(), Log: inv.log.Text}
			c.Failure = fe
			return fe
		}
	}
	if !inv.log.HasReport {
		return fmt.Errorf("%s: the log tail of an invocation has no REPORT line; fnopt reads Lambda's text log format", c.Function)
	}
	switch {
	case !r.Cold():
		c.WarmMs = append(c.WarmMs, r.DurationMs)
		c.warmBilled = append(c.warmBilled, r.BilledDurationMs)
		return nil
	case len(c.Samples) >= want:
		// A new environment beyond those asked for (Lambda scaled out
		// during the warm invocations): billed, not a sample.
		return nil
	}
	s := Sample{
		Sample: verify.Sample{
			InitMs:        r.StartMs(),
			FirstInvokeMs: r.DurationMs,
			ColdStartMs:   r.StartMs() + r.DurationMs,
			MaxRSSBytes:   int64(r.MaxMemoryUsedMB) << 20,
		},
		BilledMs:    r.BilledDurationMs,
		RoundTripMs: float64(inv.roundTrip) / float64(time.Millisecond),
		Round:       round,
		RequestID:   r.RequestID,
	}
	if r.HasRestore {
		s.RestoreMs = r.RestoreMs
	}
	c.Samples = append(c.Samples, s)
	return nil
}
