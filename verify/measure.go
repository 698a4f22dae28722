package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fnopt/fnopt/verify/runtimeapi"
	"github.com/fnopt/fnopt/verify/sandbox"
)

// DefaultEvent is the event sent when none is given.
const DefaultEvent = `{"hello":"world"}`

// InitLimit is how long Lambda lets a function initialise before it must
// ask for its first event.
const InitLimit = 10 * time.Second

// Options say how targets are measured.
type Options struct {
	// Samples is the number of cold starts per target (default 30).
	Samples int
	// Warm is the number of further invocations per cold start.
	Warm int
	// Event is the payload of every invocation (default DefaultEvent).
	Event []byte
	// EventFile is where Event was read from, for reports; "" when it
	// was not read from a file.
	EventFile string
	// Function is what the function sees in its environment; the target
	// fills in the task root. Function.MemoryMB is also the memory limit.
	Function Function
	// Timeout is the function timeout (default 30 s): an invocation not
	// answered by then fails.
	Timeout time.Duration
	// InitTimeout bounds init, the time to the first /next (default
	// InitLimit).
	InitTimeout time.Duration
	// ColdCache evicts the target's files from the page cache before each
	// sample.
	ColdCache bool
	// Expect, when set, checks every response body.
	Expect *Expect
	// Output, when set, also receives the function's stdout and stderr.
	Output io.Writer
	// Progress is called after each sample with how many are done.
	Progress func(done, total int)
}

func (o Options) withDefaults() Options {
	if o.Samples <= 0 {
		o.Samples = 30
	}
	if len(o.Event) == 0 {
		o.Event = []byte(DefaultEvent)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = InitLimit
	}
	o.Function = o.Function.withDefaults()
	return o
}

// Run is what was measured for one target.
type Run struct {
	Target  *Target
	Samples []Sample
	// Failure is set when the function failed; measuring stopped there.
	Failure *Failure
	// Notes say what could not be done as asked (each once), the memory
	// limit included, in the order they arose.
	Notes []string
	// Memory says whether Function.MemoryMB was enforced as a limit.
	Memory MemoryLimit
}

// MemoryLimit says whether the function ran under its memory limit, as
// it would on Lambda.
type MemoryLimit struct {
	// Enforced is true when every sample ran under the limit, and at least
	// one ran: what was enforced, not what was set up (a function that
	// fails at its start ran under no limit).
	Enforced bool
	// Reasons say why the limit could not be enforced where the target
	// tried to, one per distinct cause; each is also a note in Run.Notes.
	// A target that never tried (no cgroups given) has none.
	Reasons []string
}

// OK reports whether every sample succeeded.
func (r *Run) OK() bool { return r.Failure == nil }

func (r *Run) note(n string) {
	for _, have := range r.Notes {
		if have == n {
			return
		}
	}
	r.Notes = append(r.Notes, n)
}

// memoryNote is the note for a memory limit that could not be enforced.
func memoryNote(reason string) string { return "memory limit not enforced: " + reason }

// NotesWithoutMemory are r's notes less those about the memory limit,
// for a caller that did not ask for one and so should not be told it is
// missing.
func (r *Run) NotesWithoutMemory() []string {
	var out []string
	for _, n := range r.Notes {
		memory := false
		for _, reason := range r.Memory.Reasons {
			memory = memory || n == memoryNote(reason)
		}
		if !memory {
			out = append(out, n)
		}
	}
	return out
}

// recordMemory takes in whether p runs under the memory limit. Processes
// of starters from other packages say nothing and change nothing.
func (r *Run) recordMemory(p Process) {
	ml, ok := p.(memoryLimiter)
	if !ok {
		return
	}
	enforced, reason := ml.memoryLimit()
	// Called once a sample before the sample is kept, so the first
	// sample's process sets Enforced and every later one can only clear
	// it (a run's processes all come from one starter).
	r.Memory.Enforced = enforced && (len(r.Samples) == 0 || r.Memory.Enforced)
	if reason == "" {
		return
	}
	r.note(memoryNote(reason))
	for _, have := range r.Memory.Reasons {
		if have == reason {
			return
		}
	}
	r.Memory.Reasons = append(r.Memory.Reasons, reason)
}

// memoryLimiter is a process that knows whether its memory limit holds:
// enforced, or else why not when it tried ("" when it was not asked to).
type memoryLimiter interface {
	memoryLimit() (enforced bool, reason string)
}

// Failure says how a function failed a sample.
type Failure struct {
	Target string
	Sample int    // 1-based
	Phase  string // "init", "first invoke", "warm invoke 2"
	Reason string
	// FunctionError is the error the function or the emulator reported.
	FunctionError *runtimeapi.FunctionError
	// Exit says how the process ended, when it ended by itself.
	Exit string
	// Output is the tail of the function's stdout and stderr.
	Output string
}

func (f *Failure) Error() string {
	msg := fmt.Sprintf("%s: sample %d, %s: %s", f.Target, f.Sample, f.Phase, f.Reason)
	if f.FunctionError != nil {
		msg += ": " + f.FunctionError.Error()
	}
	if f.Exit != "" {
		msg += " (" + f.Exit + ")"
	}
	return msg
}

// Measure measures targets interleaved: sample 1 of each target, then
// sample 2 of each, and so on, so that drift of the machine (other load,
// thermal state, caches) affects every target alike. It stops at the first
// failure, which is recorded in that target's Run; an error means the
// measurement itself could not be done.
func Measure(ctx context.Context, targets []*Target, opts Options) ([]Run, error) {
	opts = opts.withDefaults()
	runs := make([]Run, len(targets))
	for i, t := range targets {
		runs[i] = Run{Target: t, Notes: append([]string(nil), t.Notes...)}
	}
	total := opts.Samples * len(targets)
	for n := 1; n <= opts.Samples; n++ {
		for i, t := range targets {
			s, fail, err := sample(ctx, t, opts, &runs[i])
			if err != nil {
				return runs, fmt.Errorf("measuring %s, sample %d: %w", t.Name, n, err)
			}
			if fail != nil {
				fail.Target, fail.Sample = t.Name, n
				runs[i].Failure = fail
				return runs, nil
			}
			runs[i].Samples = append(runs[i].Samples, s)
			if opts.Progress != nil {
				opts.Progress((n-1)*len(targets)+i+1, total)
			}
		}
	}
	return runs, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sample takes one cold start of t.
func sample(ctx context.Context, t *Target, o Options, run *Run) (Sample, *Failure, error) {
	if err := ctx.Err(); err != nil {
		return Sample{}, nil, err
	}
	if o.ColdCache {
		if err := Evict(t.Files); err != nil {
			run.note("cold cache incomplete: " + err.Error())
		}
	}
	sess, err := StartSession(ctx, t, SessionOptions{Function: o.Function, Timeout: o.Timeout, Output: o.Output})
	if err != nil {
		if errors.Is(err, sandbox.ErrUnsupported) {
			// The machine, not the function, is the problem.
			return Sample{}, nil, err
		}
		return Sample{}, &Failure{Phase: "start", Reason: err.Error()}, nil
	}
	for _, n := range sess.Notes() {
		run.note(n)
	}
	run.recordMemory(sess.proc)
	s, fail, err := drive(ctx, sess, o)
	if serr := sess.Stop(); serr != nil && err == nil && fail == nil {
		err = serr
	}
	if fail != nil {
		// After Stop: all the function wrote has been copied.
		fail.Output = sess.Output()
	}
	s.MaxRSSBytes = sess.MaxRSS()
	return s, fail, err
}

// drive takes the session's process through init, the first and the warm
// invocations.
func drive(ctx context.Context, sess *Session, o Options) (Sample, *Failure, error) {
	var s Sample
	srv := sess.Server
	ended := func(phase, what string) (*Failure, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		select {
		case <-sess.Exited():
			return &Failure{Phase: phase, Reason: "the function exited " + what, Exit: sess.ExitText()}, nil
		default:
			return nil, fmt.Errorf("%s: emulator stopped unexpectedly", phase)
		}
	}

	initCtx, cancelInit := context.WithTimeout(sess.Context(), o.InitTimeout)
	nextAt, err := srv.WaitNext(initCtx)
	cancelInit()
	if err != nil {
		if ie := srv.InitError(); ie != nil {
			return s, &Failure{Phase: "init", Reason: "the function reported an init error", FunctionError: ie}, nil
		}
		if errors.Is(err, context.DeadlineExceeded) && sess.Context().Err() == nil {
			return s, &Failure{Phase: "init", Reason: fmt.Sprintf("no /next within %v (Lambda's init limit is 10 s)", o.InitTimeout)}, nil
		}
		f, err := ended("init", "before asking for an event")
		return s, f, err
	}
	started := sess.Started()
	s.InitMs = ms(nextAt.Sub(started))

	for i := 0; i <= o.Warm; i++ {
		phase := "first invoke"
		if i > 0 {
			phase = fmt.Sprintf("warm invoke %d", i)
		}
		res, err := srv.Invoke(sess.Context(), o.Event)
		if err != nil {
			f, err := ended(phase, "before answering")
			return s, f, err
		}
		if res.Error != nil {
			return s, &Failure{Phase: phase, Reason: "the invocation failed", FunctionError: res.Error}, nil
		}
		if o.Expect != nil {
			if err := o.Expect.Check(res.Body); err != nil {
				return s, &Failure{Phase: phase, Reason: err.Error()}, nil
			}
		}
		d := ms(res.Done.Sub(res.Sent))
		if i == 0 {
			s.FirstInvokeMs = d
			s.ColdStartMs = ms(res.Done.Sub(started))
		} else {
			s.WarmMs = append(s.WarmMs, d)
		}
	}
	return s, nil, nil
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return strings.TrimPrefix(err.Error(), "exec: ")
}
