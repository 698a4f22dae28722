package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// Session is one running copy of a target, with the emulator it talks to.
// Every cold sample is a session; `fnopt verify --serve` keeps one open
// for a person to invoke by hand.
type Session struct {
	// Server is the emulator the function talks to.
	Server *runtimeapi.Server
	proc   Process
	hs     *http.Server
	out    *tail

	exited  chan struct{}
	waitErr error // set before exited closes
	// ctx ends when the process ends (or the parent context does).
	ctx    context.Context
	cancel context.CancelFunc
}

// SessionOptions start a session.
type SessionOptions struct {
	Function Function
	// Timeout is the function timeout (runtimeapi.Options.Timeout).
	Timeout time.Duration
	// Output also receives the function's stdout and stderr.
	Output io.Writer
}

// StartSession starts a fresh copy of t and serves the emulator for it.
// The error is about the start; Stop must be called on success.
func StartSession(ctx context.Context, t *Target, o SessionOptions) (*Session, error) {
	fn := o.Function.withDefaults()
	fn.TaskRoot = t.TaskRoot
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: fn.Name, MemoryMB: fn.MemoryMB, Timeout: o.Timeout, Region: fn.Region})
	out := newTail(8 << 10)
	var output io.Writer = out
	if o.Output != nil {
		output = teeWriter{out, o.Output}
	}
	// No ReadHeaderTimeout: the emulator's only client is the function it
	// started, and Stop closes every connection. A header deadline arms a
	// runtime timer as each request begins, which wakes an idle thread of
	// fnopt just as the function's first /next is on its way (measured
	// apart: +34–61 µs on a 0.2 ms init on a 2-CPU VM; docs/verify.md).
	hs := &http.Server{Handler: srv, ConnContext: runtimeapi.ConnContext}
	// A host process reaches the emulator on a listener made here, and
	// served before the exec, so that a fast function never waits for the
	// server to start accepting. The end of init is when the first
	// /next's bytes arrive (runtimeapi.TimedListener), not when the server
	// got round to reading them.
	var ln net.Listener
	if takesListener(t.Starter) {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listening for the function: %w", err)
		}
	}
	served := false
	if ln != nil {
		// Wait until the server is accepting: a goroutine that is still
		// starting when the clock starts would run during the exec (see
		// HostStarter.Start).
		al := &acceptingListener{Listener: ln, accepting: make(chan struct{})}
		go func() {
			defer al.signal() // also when Serve fails before accepting
			_ = hs.Serve(runtimeapi.TimedListener(al))
		}()
		<-al.accepting
		served = true
	}
	proc, err := t.Starter.Start(ctx, StartSpec{
		Env:         LambdaEnv(fn, time.Now()),
		FunctionEnv: fn.Env,
		Output:      output,
		MemoryBytes: int64(fn.MemoryMB) << 20,
		Listener:    ln,
	})
	if err != nil {
		hs.Close()
		return nil, err
	}
	if !served {
		go func() { _ = hs.Serve(runtimeapi.TimedListener(proc.Listener())) }()
	}
	s := &Session{
		Server: srv,
		proc:   proc,
		hs:     hs,
		out:    out,
		exited: make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	go func() {
		s.waitErr = proc.Wait()
		close(s.exited)
		s.cancel()
	}()
	return s, nil
}

// acceptingListener closes accepting when Accept is first called.
type acceptingListener struct {
	net.Listener
	once      sync.Once
	accepting chan struct{}
}

func (l *acceptingListener) Accept() (net.Conn, error) {
	l.signal()
	return l.Listener.Accept()
}

func (l *acceptingListener) signal() { l.once.Do(func() { close(l.accepting) }) }

// takesListener reports whether a starter uses StartSpec.Listener (host
// processes) rather than making its own (sandboxes).
func takesListener(st Starter) bool {
	_, ok := st.(interface{ takesListener() })
	return ok
}

// Started is the moment just before the function's exec.
func (s *Session) Started() time.Time { return s.proc.Started() }

// Context ends when the function's process ends.
func (s *Session) Context() context.Context { return s.ctx }

// Exited is closed when the function's process has ended and been reaped.
func (s *Session) Exited() <-chan struct{} { return s.exited }

// ExitText says how the process ended; valid once Exited is closed.
func (s *Session) ExitText() string { return exitText(s.waitErr) }

// Output is the tail of the function's stdout and stderr.
func (s *Session) Output() string { return s.out.String() }

// Notes say what the starter could not do as asked.
func (s *Session) Notes() []string { return s.proc.Notes() }

// MaxRSS is the process's peak resident set size; valid after Stop.
func (s *Session) MaxRSS() int64 { return s.proc.MaxRSS() }

// peakRecorder is a process that reads its peak RSS while it is alive
// (a host process, from /proc); the sandbox measures its own.
type peakRecorder interface{ RecordPeak() }

// Stop ends the session: the emulator refuses further requests, the whole
// process tree is killed and reaped, and the server, its connections and
// the listener are closed.
func (s *Session) Stop() error {
	defer s.cancel()
	if r, ok := s.proc.(peakRecorder); ok {
		r.RecordPeak()
	}
	s.Server.Close()
	var errs []error
	if err := s.proc.Kill(); err != nil {
		errs = append(errs, err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		errs = append(errs, errors.New("the function did not exit 10 s after SIGKILL"))
	}
	// A process may own its listener and close it as it ends (an image's
	// sandbox does): already closed is not an error here.
	if err := s.hs.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, fmt.Errorf("closing the emulator: %w", err))
	}
	if r, ok := s.proc.(releaser); ok {
		if err := r.release(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
