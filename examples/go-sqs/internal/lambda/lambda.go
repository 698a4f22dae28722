// Package lambda is a small client of the AWS Lambda Runtime API
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) that
// uses only the standard library. It implements the whole contract of a
// custom runtime: it long-polls /next for events, gives the handler a
// context with the invocation's deadline and metadata, sets
// _X_AMZN_TRACE_ID, posts results to /response and handler errors and
// panics to /error, and reports failed initialisation to /init/error.
//
// It is written for start-up time and size: no net or net/http (system
// calls on one socket), no reflection beyond encoding/json's, no
// goroutines of its own.
package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const apiPrefix = "/2018-06-01/runtime"

// Runtime API headers of GET /next.
const (
	headerRequestID       = "lambda-runtime-aws-request-id"
	headerDeadlineMs      = "lambda-runtime-deadline-ms"
	headerFunctionArn     = "lambda-runtime-invoked-function-arn"
	headerTraceID         = "lambda-runtime-trace-id"
	headerClientContext   = "lambda-runtime-client-context"
	headerCognitoIdentity = "lambda-runtime-cognito-identity"
	headerTenantID        = "lambda-runtime-aws-tenant-id"
)

// Context describes the invocation being handled.
type Context struct {
	AwsRequestID       string
	InvokedFunctionArn string
	Deadline           time.Time
	TraceID            string
	// ClientContext and CognitoIdentity are the raw JSON Lambda passes for
	// invocations through the AWS Mobile SDK; empty otherwise.
	ClientContext   string
	CognitoIdentity string
	// TenantID is the tenant of the invocation for functions with tenant
	// isolation; empty otherwise.
	TenantID string
}

type contextKey struct{}

// FromContext returns the invocation's Context, if ctx came from Start.
func FromContext(ctx context.Context) (*Context, bool) {
	lc, ok := ctx.Value(contextKey{}).(*Context)
	return lc, ok
}

// Error is a function error with an explicit errorType. Handlers may
// return it; other errors are reported with their Go type's name, as
// github.com/aws/aws-lambda-go does.
type Error struct {
	Type       string   `json:"errorType"`
	Message    string   `json:"errorMessage"`
	StackTrace []string `json:"stackTrace,omitempty"`
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Handler handles one event of type In and answers with Out, which is
// encoded as JSON.
type Handler[In, Out any] func(context.Context, In) (Out, error)

// Start serves invocations with handler until the process is stopped. It
// returns only by exiting the process: after a panic in the handler (so
// that Lambda starts a fresh one) or when the Runtime API is unusable.
func Start[In, Out any](handler Handler[In, Out]) {
	rt, err := newRuntime(os.Getenv("AWS_LAMBDA_RUNTIME_API"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err = rt.serve(context.Background(), rawHandler(handler))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// InitError reports to Lambda that the function could not initialise, so
// the error shows up in the invocation's response and logs, then exits.
// Call it from main before Start when set-up (configuration, clients)
// fails.
func InitError(err error) {
	rt, rerr := newRuntime(os.Getenv("AWS_LAMBDA_RUNTIME_API"))
	if rerr == nil {
		rerr = rt.postError(apiPrefix+"/init/error", errorFor(err))
	}
	fmt.Fprintln(os.Stderr, "init failed:", err)
	if rerr != nil {
		fmt.Fprintln(os.Stderr, rerr)
	}
	os.Exit(1)
}

type runtimeClient struct {
	c *client
}

func newRuntime(api string) (*runtimeClient, error) {
	if api == "" {
		return nil, fmt.Errorf("AWS_LAMBDA_RUNTIME_API is not set: run this program on AWS Lambda or under a Runtime API emulator")
	}
	return &runtimeClient{c: &client{addr: api}}, nil
}

// raw is a handler on encoded events and results.
type raw func(ctx context.Context, payload []byte) ([]byte, error)

func rawHandler[In, Out any](h Handler[In, Out]) raw {
	return func(ctx context.Context, payload []byte) ([]byte, error) {
		var in In
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, &Error{Type: "Runtime.UnmarshalError", Message: err.Error()}
		}
		out, err := h(ctx, in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, &Error{Type: "Runtime.MarshalError", Message: err.Error()}
		}
		return b, nil
	}
}

// serve is the invocation loop; it returns only a fatal error.
func (rt *runtimeClient) serve(base context.Context, h raw) error {
	for {
		inv, err := rt.next()
		if err != nil {
			return err
		}
		if err := rt.handle(base, inv, h); err != nil {
			return err
		}
	}
}

type invocation struct {
	ctx     Context
	payload []byte
}

func (rt *runtimeClient) next() (*invocation, error) {
	resp, err := rt.c.do("GET", apiPrefix+"/invocation/next", "", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("waiting for the next event: %w", err)
	}
	if resp.status != 200 {
		return nil, fmt.Errorf("waiting for the next event: Runtime API answered %d: %s", resp.status, resp.body)
	}
	h := resp.header
	inv := &invocation{payload: resp.body, ctx: Context{
		AwsRequestID:       h[headerRequestID],
		InvokedFunctionArn: h[headerFunctionArn],
		TraceID:            h[headerTraceID],
		ClientContext:      h[headerClientContext],
		CognitoIdentity:    h[headerCognitoIdentity],
		TenantID:           h[headerTenantID],
	}}
	if inv.ctx.AwsRequestID == "" {
		return nil, fmt.Errorf("the Runtime API sent an event without %s", headerRequestID)
	}
	ms, err := strconv.ParseInt(h[headerDeadlineMs], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("the Runtime API sent a bad %s %q", headerDeadlineMs, h[headerDeadlineMs])
	}
	inv.ctx.Deadline = time.UnixMilli(ms)
	return inv, nil
}

// handle runs one invocation and posts its outcome. A handler panic is
// reported as an error and then returned, which ends the process.
func (rt *runtimeClient) handle(base context.Context, inv *invocation, h raw) error {
	// The X-Ray SDKs read the trace header from the environment; unset it
	// when absent so one invocation's ID never leaks into the next.
	if inv.ctx.TraceID != "" {
		os.Setenv("_X_AMZN_TRACE_ID", inv.ctx.TraceID)
	} else {
		os.Unsetenv("_X_AMZN_TRACE_ID")
	}
	ctx, cancel := context.WithDeadline(context.WithValue(base, contextKey{}, &inv.ctx), inv.ctx.Deadline)
	defer cancel()

	out, panicked, err := call(ctx, h, inv.payload)
	path := apiPrefix + "/invocation/" + inv.ctx.AwsRequestID
	if err != nil {
		e := errorFor(err)
		fmt.Fprintf(os.Stderr, "invocation %s failed: %s: %s\n", inv.ctx.AwsRequestID, e.Type, e.Message)
		if perr := rt.postError(path+"/error", e); perr != nil {
			return perr
		}
		if panicked {
			return fmt.Errorf("the handler panicked: %s", e.Message)
		}
		return nil
	}
	resp, err := rt.c.do("POST", path+"/response", "application/json", nil, out)
	if err != nil {
		return fmt.Errorf("sending the response: %w", err)
	}
	if resp.status == 413 {
		// Too large for Lambda: tell the caller why instead of timing out.
		return rt.postError(path+"/error", &Error{Type: "Function.ResponseSizeTooLarge", Message: fmt.Sprintf("response of %d bytes is over Lambda's limit", len(out))})
	}
	if resp.status != 202 {
		return fmt.Errorf("sending the response: Runtime API answered %d: %s", resp.status, resp.body)
	}
	return nil
}

// call runs the handler and turns a panic into an error with its stack.
func call(ctx context.Context, h raw, payload []byte) (out []byte, panicked bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, panicked = nil, true
			err = &Error{Type: typeName(v), Message: fmt.Sprint(v), StackTrace: stack()}
		}
	}()
	out, err = h(ctx, payload)
	return out, false, err
}

// errorFor converts err into the Runtime API's error document.
func errorFor(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Type: typeName(err), Message: err.Error()}
}

// typeName is the name of v's type without package or pointer, e.g.
// "errorString" for errors.New: the errorType Lambda users are used to.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Name() == "" {
		return "Error"
	}
	return t.Name()
}

func stack() []string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(4, pcs) // skip Callers, stack, the deferred func and gopanic
	frames := runtime.CallersFrames(pcs[:n])
	var out []string
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			out = append(out, fmt.Sprintf("%s (%s:%d)", f.Function, f.File, f.Line))
		}
		if !more {
			return out
		}
	}
}

func (rt *runtimeClient) postError(path string, e *Error) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding the error: %w", err)
	}
	header := [][2]string{
		{"Lambda-Runtime-Function-Error-Type", e.Type},
	}
	resp, err := rt.c.do("POST", path, "application/json", header, body)
	if err != nil {
		return fmt.Errorf("reporting the error: %w", err)
	}
	if resp.status != 202 {
		return fmt.Errorf("reporting the error: Runtime API answered %d: %s", resp.status, resp.body)
	}
	return nil
}
