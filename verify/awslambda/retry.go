package awslambda

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// Backoff says how calls are retried when Lambda throttles them (429
// TooManyRequestsException) or refuses them while an update of the
// function is in progress (409 ResourceConflictException), and how often
// a function's state is polled.
type Backoff struct {
	// First is the first wait (default 500 ms); each retry doubles it,
	// with jitter, up to Max (default 20 s).
	First, Max time.Duration
	// Attempts bounds the tries of one call (default 10).
	Attempts int
	// Poll is how often a function's state is read while waiting for it
	// (default 1 s).
	Poll time.Duration
	// StateTimeout bounds the wait for a function to become Active or an
	// update to finish (default 5 min).
	StateTimeout time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.First <= 0 {
		b.First = 500 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 20 * time.Second
	}
	if b.Attempts <= 0 {
		b.Attempts = 10
	}
	if b.Poll <= 0 {
		b.Poll = time.Second
	}
	if b.StateTimeout <= 0 {
		b.StateTimeout = 5 * time.Minute
	}
	return b
}

// retryStats counts what was retried, for the report; calls made at
// once share it.
type retryStats struct {
	throttled, conflicts atomic.Int64
}

// do calls f until it succeeds, fails with an error that is not worth
// retrying, the attempts run out or ctx ends. Lambda's Retry-After is
// honoured (up to Max).
func (b Backoff) do(ctx context.Context, stats *retryStats, f func(context.Context) error) error {
	wait := b.First
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return nil
		}
		after, ok := retryable(err, stats)
		if !ok || attempt >= b.Attempts || ctx.Err() != nil {
			return err
		}
		d := wait/2 + rand.N(wait/2+1) // jitter: concurrent callers spread out
		if after > d {
			d = after
		}
		d = min(d, b.Max)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
		wait = min(2*wait, b.Max)
	}
}

// retryable says whether err is worth another try, and how long Lambda
// asked to wait first.
func retryable(err error, stats *retryStats) (time.Duration, bool) {
	var tm *types.TooManyRequestsException
	if errors.As(err, &tm) {
		stats.throttled.Add(1)
		if s := tm.RetryAfterSeconds; s != nil {
			if n, perr := strconv.Atoi(*s); perr == nil && n >= 0 {
				return time.Duration(n) * time.Second, true
			}
		}
		return 0, true
	}
	var rc *types.ResourceConflictException
	if errors.As(err, &rc) {
		stats.conflicts.Add(1)
		return 0, true
	}
	var se *types.ServiceException
	if errors.As(err, &se) {
		return 0, true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "ThrottlingException" || ae.ErrorCode() == "TooManyRequestsException") {
		stats.throttled.Add(1)
		return 0, true
	}
	return 0, false
}
