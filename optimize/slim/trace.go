package slim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/sandbox"
)

// Traced is what one traced cold start and invocation of an image did.
type Traced struct {
	// Accesses are the function's file calls, in order.
	Accesses []sandbox.FileAccess
	// Response is the body of the invocation's response.
	Response []byte
	// Failure says how the function failed ("" when it answered).
	Failure string
	// Output is the tail of the function's stdout and stderr.
	Output string
}

// traceTimeout bounds the traced run's init and invocation: strace slows a
// function down several times.
const traceTimeout = 60 * time.Second

// traceImage runs the image flattened in root once in the sandbox under
// strace: a cold start and one invocation with event.
func traceImage(ctx context.Context, root string, cf *v1.ConfigFile, event []byte) (*Traced, error) {
	st := &tracedStarter{root: root, cf: cf}
	t := &verify.Target{Name: "traced run", Starter: st, TaskRoot: "/var/task"}
	ctx, cancel := context.WithTimeout(ctx, 2*traceTimeout)
	defer cancel()
	sess, err := verify.StartSession(ctx, t, verify.SessionOptions{Timeout: traceTimeout})
	if err != nil {
		return nil, fmt.Errorf("starting the traced run: %w", err)
	}
	tr := &Traced{}
	initCtx, cancelInit := context.WithTimeout(sess.Context(), traceTimeout)
	_, err = sess.Server.WaitNext(initCtx)
	cancelInit()
	switch {
	case err != nil && sess.Server.InitError() != nil:
		tr.Failure = "init error: " + sess.Server.InitError().Error()
	case err != nil:
		tr.Failure = "the function did not ask for an event (exited or hung in init)"
	default:
		res, err := sess.Server.Invoke(sess.Context(), event)
		switch {
		case err != nil:
			tr.Failure = "the function ended without answering the invocation"
		case res.Error != nil:
			tr.Failure = "the invocation failed: " + res.Error.Error()
		default:
			tr.Response = res.Body
		}
	}
	if err := sess.Stop(); err != nil && tr.Failure == "" {
		return nil, fmt.Errorf("stopping the traced run: %w", err)
	}
	tr.Output = sess.Output()
	if st.proc != nil {
		tr.Accesses = st.proc.Trace()
	}
	return tr, nil
}

// tracedStarter starts an image's entrypoint in the sandbox with tracing,
// with the environment Lambda gives a container image function.
type tracedStarter struct {
	root string
	cf   *v1.ConfigFile
	proc *sandbox.Process
}

func (s *tracedStarter) Start(ctx context.Context, spec verify.StartSpec) (verify.Process, error) {
	if s.proc != nil {
		return nil, errors.New("a traced starter runs once")
	}
	c := s.cf.Config
	handler := ""
	if len(c.Cmd) > 0 {
		handler = c.Cmd[0]
	}
	env := append(verify.ImageEnv(c.Env, handler, spec), "AWS_LAMBDA_RUNTIME_API="+sandbox.ListenAddr)
	p, err := sandbox.Start(ctx, sandbox.Spec{
		Root:    s.root,
		Argv:    append(append([]string(nil), c.Entrypoint...), c.Cmd...),
		Env:     env,
		WorkDir: c.WorkingDir,
		Trace:   true,
		Stderr:  spec.Output,
		Stdout:  spec.Output,
	})
	if err != nil {
		return nil, err
	}
	s.proc = p
	return tracedProcess{p}, nil
}

type tracedProcess struct{ p *sandbox.Process }

func (t tracedProcess) Listener() net.Listener { return t.p.Listener }
func (t tracedProcess) Started() time.Time     { return t.p.Started }
func (t tracedProcess) Wait() error            { return t.p.Wait() }
func (t tracedProcess) Kill() error            { return t.p.Kill() }
func (t tracedProcess) MaxRSS() int64          { return t.p.MaxRSS() }
func (t tracedProcess) Notes() []string        { return nil }
