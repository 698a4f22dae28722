package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits Lambda puts on responses.
const (
	// MaxResponseBytes is the largest buffered response Lambda accepts for a
	// synchronous invocation (6 MiB).
	MaxResponseBytes = 6 << 20
	// MaxStreamedResponseBytes is the largest streamed response
	// (Lambda-Runtime-Function-Response-Mode: streaming), 200 MiB.
	MaxStreamedResponseBytes = 200 << 20
	// DefaultTimeout is Lambda's default function timeout.
	DefaultTimeout = 3 * time.Second
	// DefaultAccountID is the account the emulated function lives in; it
	// only appears in the invoked function ARN.
	DefaultAccountID = "000000000000"
)

// Header names of the Runtime API.
const (
	HeaderRequestID       = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID         = "Lambda-Runtime-Trace-Id"
	HeaderClientContext   = "Lambda-Runtime-Client-Context"
	HeaderCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	HeaderTenantID        = "Lambda-Runtime-Aws-Tenant-Id"
	HeaderErrorType       = "Lambda-Runtime-Function-Error-Type"
	HeaderErrorBody       = "Lambda-Runtime-Function-Error-Body"
	HeaderResponseMode    = "Lambda-Runtime-Function-Response-Mode"
	HeaderXRayErrorCause  = "Lambda-Runtime-Function-XRay-Error-Cause"
)

// Error types the emulator itself reports in Result.Error.
const (
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"
	ErrorTypeTimeout          = "Sandbox.Timedout"
	ErrorTypeUnhandled        = "Unhandled"
)

// ErrClosed is returned by Invoke and WaitNext once the server is closed.
var ErrClosed = errors.New("runtime API emulator closed")

// Options describe the emulated function.
type Options struct {
	FunctionName string
	// FunctionVersion defaults to $LATEST.
	FunctionVersion string
	MemoryMB        int
	// Timeout is the function timeout: it sets each invocation's deadline
	// and fails an invocation that has not answered by then. Zero means
	// Lambda's default, 3 s.
	Timeout time.Duration
	// Region defaults to us-east-1.
	Region string
	// AccountID defaults to DefaultAccountID.
	AccountID string
}

// FunctionError is what a function reported through /error or
// /init/error, or what the emulator reports when an invocation failed
// without one (oversized response, timeout).
//
// Type is the errorType of the error document the runtime posted, as
// Lambda gives it to the caller; a runtime's Lambda-Runtime-Function-
// Error-Type header does not replace it (lambda_runtime sends "unhandled"
// with every error it reports), as AWS's Runtime Interface Emulator keeps
// the header apart from the payload it returns. The header is HeaderType;
// Type falls back to it when the document has no errorType, then to
// Unhandled.
type FunctionError struct {
	Type       string   `json:"errorType"`
	Message    string   `json:"errorMessage"`
	StackTrace []string `json:"stackTrace,omitempty"`
	// HeaderType is the Lambda-Runtime-Function-Error-Type header of the
	// report ("" without one), which Lambda records in its logs and
	// metrics, not in the caller's answer.
	HeaderType string `json:"-"`

	// posted is the error document as the runtime posted it, which the
	// Invoke API returns unchanged; nil for the emulator's own errors.
	posted []byte
}

func (e *FunctionError) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// Request is one invocation with everything Lambda can pass along.
type Request struct {
	Payload []byte
	// ClientContext and CognitoIdentity are sent as the
	// Lambda-Runtime-Client-Context and -Cognito-Identity headers (JSON).
	ClientContext   string
	CognitoIdentity string
	// TraceID overrides the generated X-Ray trace header.
	TraceID string
	// TenantID is sent as Lambda-Runtime-Aws-Tenant-Id when set.
	TenantID string
}

// Result is how one invocation ended.
type Result struct {
	RequestID string
	// Body is the response, or the raw error document for /error.
	Body []byte
	// Error is non-nil when the invocation failed.
	Error *FunctionError
	// Sent is when the event was handed to the function (its /next
	// answered); Done is when its answer had been read in full.
	Sent, Done time.Time
}

// Server is the emulator; it is an http.Handler. Create it with New.
type Server struct {
	opts    Options
	arn     string
	handoff chan *invocation // unbuffered: Invoke blocks until a /next takes the event
	closed  chan struct{}

	firstNext chan struct{} // closed at the first GET /next
	initErrCh chan struct{} // closed at the first /init/error

	mu          sync.Mutex
	closeOnce   sync.Once
	firstNextAt time.Time
	initErr     *FunctionError
	current     *invocation            // handed over and not yet answered
	byID        map[string]*invocation // every invocation handed over
}

type invocation struct {
	req   Request
	id    string
	done  chan struct{}
	timer *time.Timer
	// Set under Server.mu:
	finished bool
	result   Result
}

// New returns an emulator for the function opts describes.
func New(opts Options) *Server {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.FunctionVersion == "" {
		opts.FunctionVersion = "$LATEST"
	}
	if opts.FunctionName == "" {
		opts.FunctionName = "function"
	}
	return &Server{
		opts:      opts,
		arn:       fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", opts.Region, opts.AccountID, opts.FunctionName),
		handoff:   make(chan *invocation),
		closed:    make(chan struct{}),
		firstNext: make(chan struct{}),
		initErrCh: make(chan struct{}),
		byID:      make(map[string]*invocation),
	}
}

// FunctionARN is the ARN sent as Lambda-Runtime-Invoked-Function-Arn.
func (s *Server) FunctionARN() string { return s.arn }

// Options returns the options with their defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Invoke queues one event and blocks until the function answers it, the
// function timeout passes (Result.Error of type Sandbox.Timedout), ctx ends
// or the server is closed.
func (s *Server) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	return s.InvokeRequest(ctx, Request{Payload: payload})
}

// InvokeRequest is Invoke with client context, identity and trace headers.
func (s *Server) InvokeRequest(ctx context.Context, req Request) (*Result, error) {
	inv := &invocation{req: req, id: newRequestID(), done: make(chan struct{})}
	select {
	case s.handoff <- inv:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the function to ask for an event: %w", ctx.Err())
	case <-s.closed:
		return nil, ErrClosed
	}
	result := func() *Result {
		s.mu.Lock()
		defer s.mu.Unlock()
		res := inv.result
		return &res
	}
	select {
	case <-inv.done:
		return result(), nil
	case <-ctx.Done():
	case <-s.closed:
	}
	// An answer that came in just before the end still counts (a function
	// may answer and exit at once).
	select {
	case <-inv.done:
		return result(), nil
	default:
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("waiting for the function's answer to %s: %w", inv.id, ctx.Err())
	}
	return nil, ErrClosed
}

// WaitNext waits for the function's first GET /next, the end of its init,
// and returns when it arrived. It fails early when the function reports an
// init error, or when ctx ends or the server is closed.
func (s *Server) WaitNext(ctx context.Context) (time.Time, error) {
	select {
	case <-s.firstNext:
	case <-s.initErrCh:
		return time.Time{}, fmt.Errorf("function init failed: %w", s.InitError())
	case <-ctx.Done():
	case <-s.closed:
	}
	select {
	case <-s.firstNext:
		// Also when it came just before ctx ended.
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.firstNextAt, nil
	default:
	}
	if ctx.Err() != nil {
		return time.Time{}, fmt.Errorf("waiting for the function's first /next: %w", ctx.Err())
	}
	return time.Time{}, ErrClosed
}

// InitError is the error the function posted to /runtime/init/error, or nil.
func (s *Server) InitError() *FunctionError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.initErr
}

// Close fails every waiting call: from now on the function's requests get
// 500 (container error) and Invoke and WaitNext return ErrClosed. Close
// does not close listeners; the caller owns those.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.current != nil && s.current.timer != nil {
			s.current.timer.Stop()
		}
	})
}

func (s *Server) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

const prefix = "/2018-06-01/runtime/"

// ServeHTTP routes the Runtime API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != prefix+"invocation/next" {
		// Count the request on its connection, so that a later /next on
		// it is not taken for the connection's first request.
		arrivedAt(r.Context(), time.Now())
	}
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "no such Runtime API path: "+r.URL.Path)
		return
	}
	if s.isClosed() {
		writeError(w, http.StatusInternalServerError, "ContainerError", "the execution environment is shutting down; exit")
		return
	}
	switch {
	case rest == "invocation/next":
		if !allow(w, r, http.MethodGet) {
			return
		}
		s.next(w, r)
	case rest == "init/error":
		if !allow(w, r, http.MethodPost) {
			return
		}
		s.postInitError(w, r)
	case strings.HasPrefix(rest, "invocation/"):
		id, action, ok := strings.Cut(strings.TrimPrefix(rest, "invocation/"), "/")
		if !ok || id == "" || (action != "response" && action != "error") {
			writeError(w, http.StatusNotFound, "NotFound", "no such Runtime API path: "+r.URL.Path)
			return
		}
		if !allow(w, r, http.MethodPost) {
			return
		}
		if action == "response" {
			s.postResponse(w, r, id)
		} else {
			s.postError(w, r, id)
		}
	default:
		writeError(w, http.StatusNotFound, "NotFound", "no such Runtime API path: "+r.URL.Path)
	}
}

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not allowed here; use "+method)
	return false
}

// next hands the function its next event, blocking until there is one.
func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	now := arrivedAt(r.Context(), time.Now())
	s.mu.Lock()
	if s.firstNextAt.IsZero() {
		s.firstNextAt = now
		close(s.firstNext)
	}
	busy := s.current != nil
	s.mu.Unlock()
	if busy {
		// Lambda runs one invocation at a time: the runtime must answer the
		// one it holds before asking for another.
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "the current invocation has not been answered; post its response or error first")
		return
	}

	var inv *invocation
	select {
	case inv = <-s.handoff:
	case <-r.Context().Done():
		return
	case <-s.closed:
		writeError(w, http.StatusInternalServerError, "ContainerError", "the execution environment is shutting down; exit")
		return
	}

	sent := time.Now()
	deadline := sent.Add(s.opts.Timeout)
	s.mu.Lock()
	inv.result = Result{RequestID: inv.id, Sent: sent}
	s.current = inv
	s.byID[inv.id] = inv
	inv.timer = time.AfterFunc(s.opts.Timeout, func() {
		s.finish(inv, nil, &FunctionError{
			Type:    ErrorTypeTimeout,
			Message: fmt.Sprintf("Task timed out after %.2f seconds", s.opts.Timeout.Seconds()),
		})
	})
	s.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(HeaderRequestID, inv.id)
	h.Set(HeaderDeadlineMs, strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set(HeaderFunctionARN, s.arn)
	trace := inv.req.TraceID
	if trace == "" {
		trace = newTraceID(sent)
	}
	h.Set(HeaderTraceID, trace)
	if inv.req.ClientContext != "" {
		h.Set(HeaderClientContext, inv.req.ClientContext)
	}
	if inv.req.CognitoIdentity != "" {
		h.Set(HeaderCognitoIdentity, inv.req.CognitoIdentity)
	}
	if inv.req.TenantID != "" {
		h.Set(HeaderTenantID, inv.req.TenantID)
	}
	h.Set("Content-Length", strconv.Itoa(len(inv.req.Payload)))
	w.WriteHeader(http.StatusOK)
	// A failed write leaves the invocation to time out, as on Lambda.
	_, _ = w.Write(inv.req.Payload)
}

// lookup finds an invocation the function may still answer, or writes the
// 400 the runtime gets for an id it cannot answer.
func (s *Server) lookup(w http.ResponseWriter, id string) *invocation {
	s.mu.Lock()
	inv := s.byID[id]
	finished := inv != nil && inv.finished
	s.mu.Unlock()
	switch {
	case inv == nil:
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "unknown request ID "+id)
		return nil
	case finished:
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "request ID "+id+" was already answered or timed out")
		return nil
	}
	return inv
}

// finish records how inv ended; only the first outcome counts. It reports
// whether this call was that first one.
func (s *Server) finish(inv *invocation, body []byte, ferr *FunctionError) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv.finished {
		return false
	}
	inv.finished = true
	inv.result.Body = body
	inv.result.Error = ferr
	inv.result.Done = time.Now()
	if inv.timer != nil {
		inv.timer.Stop()
	}
	if s.current == inv {
		s.current = nil
	}
	close(inv.done)
	return true
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}` + "\n"))
}

func writeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(marshalError(&FunctionError{Type: typ, Message: msg}))
}

// newRequestID returns a random UUID (version 4), the form Lambda uses.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newTraceID returns an X-Ray trace header for an unsampled trace that
// starts at t: Root=1-<epoch seconds hex>-<96 random bits>.
func newTraceID(t time.Time) string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0",
		t.Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:]))
}
