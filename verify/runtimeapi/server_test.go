package runtimeapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// client plays the function's runtime against the emulator.
type client struct {
	t    *testing.T
	base string
}

type reply struct {
	code   int
	header http.Header
	body   []byte
}

func (c *client) do(method, path string, header map[string]string, body io.Reader) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (c *client) next() reply {
	c.t.Helper()
	return c.do(http.MethodGet, "/2018-06-01/runtime/invocation/next", nil, nil)
}

func (c *client) post(path string, header map[string]string, body []byte) reply {
	c.t.Helper()
	return c.do(http.MethodPost, "/2018-06-01/runtime/"+path, header, bytes.NewReader(body))
}

const timeout = 5 * time.Second

func start(t *testing.T, opts runtimeapi.Options) (*runtimeapi.Server, *client) {
	t.Helper()
	srv := runtimeapi.New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close) // before ts.Close: wakes long polls so Close does not wait
	return srv, &client{t: t, base: ts.URL}
}

// invokeAsync runs Invoke in the background; the channel yields its outcome.
type outcome struct {
	res *runtimeapi.Result
	err error
}

func invokeAsync(srv *runtimeapi.Server, req runtimeapi.Request) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		res, err := srv.InvokeRequest(ctx, req)
		ch <- outcome{res, err}
	}()
	return ch
}

func wait(t *testing.T, ch <-chan outcome) *runtimeapi.Result {
	t.Helper()
	o := <-ch
	if o.err != nil {
		t.Fatalf("Invoke: %v", o.err)
	}
	return o.res
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
var traceRE = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`)

func TestNextHeaders(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{FunctionName: "fn", Timeout: timeout, Region: "eu-west-1"})
	ch := invokeAsync(srv, runtimeapi.Request{
		Payload:         []byte(`{"hello":"world"}`),
		ClientContext:   `{"client":{"app_title":"t"}}`,
		CognitoIdentity: `{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}`,
		TenantID:        "tenant-1",
	})
	before := time.Now()
	r := c.next()
	after := time.Now()
	if r.code != http.StatusOK || string(r.body) != `{"hello":"world"}` {
		t.Fatalf("next = %d %q, want 200 with the payload", r.code, r.body)
	}
	id := r.header.Get(runtimeapi.HeaderRequestID)
	if !uuidRE.MatchString(id) {
		t.Errorf("request id %q is not a UUID v4", id)
	}
	ms, err := strconv.ParseInt(r.header.Get(runtimeapi.HeaderDeadlineMs), 10, 64)
	if err != nil {
		t.Fatalf("deadline: %v", err)
	}
	// The deadline is the moment of sending plus the timeout, in Unix ms.
	lo, hi := before.Add(timeout).UnixMilli()-1, after.Add(timeout).UnixMilli()+1
	if ms < lo || ms > hi {
		t.Errorf("deadline %d outside [%d, %d]", ms, lo, hi)
	}
	if got, want := r.header.Get(runtimeapi.HeaderFunctionARN), "arn:aws:lambda:eu-west-1:000000000000:function:fn"; got != want {
		t.Errorf("ARN = %q, want %q", got, want)
	}
	if got := r.header.Get(runtimeapi.HeaderTraceID); !traceRE.MatchString(got) {
		t.Errorf("trace id %q does not look like an X-Ray header", got)
	}
	for h, want := range map[string]string{
		runtimeapi.HeaderClientContext:   `{"client":{"app_title":"t"}}`,
		runtimeapi.HeaderCognitoIdentity: `{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}`,
		runtimeapi.HeaderTenantID:        "tenant-1",
		"Content-Type":                   "application/json",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}

	resp := c.post("invocation/"+id+"/response", nil, []byte(`"ok"`))
	if resp.code != http.StatusAccepted || !strings.Contains(string(resp.body), `"status":"OK"`) {
		t.Fatalf("response = %d %s, want 202 {\"status\":\"OK\"}", resp.code, resp.body)
	}
	res := wait(t, ch)
	if res.RequestID != id || string(res.Body) != `"ok"` || res.Error != nil {
		t.Errorf("result = %+v", res)
	}
	if res.Sent.IsZero() || res.Done.Before(res.Sent) {
		t.Errorf("Sent %v, Done %v: want Sent <= Done", res.Sent, res.Done)
	}

	// Optional headers are absent when the invocation carries none.
	ch = invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`)})
	r = c.next()
	for _, h := range []string{runtimeapi.HeaderClientContext, runtimeapi.HeaderCognitoIdentity, runtimeapi.HeaderTenantID} {
		if _, ok := r.header[h]; ok {
			t.Errorf("%s sent without a value", h)
		}
	}
	if r.header.Get(runtimeapi.HeaderRequestID) == id {
		t.Error("request id reused")
	}
	c.post("invocation/"+r.header.Get(runtimeapi.HeaderRequestID)+"/response", nil, []byte(`1`))
	wait(t, ch)
}

func TestNextBlocksUntilInvoke(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: timeout})
	got := make(chan reply, 1)
	go func() { got <- c.next() }()
	at, err := srv.WaitNext(context.Background())
	if err != nil || at.IsZero() {
		t.Fatalf("WaitNext = %v, %v", at, err)
	}
	select {
	case r := <-got:
		t.Fatalf("next answered %d before any event was queued", r.code)
	case <-time.After(50 * time.Millisecond):
	}
	ch := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{"n":1}`)})
	r := <-got
	if string(r.body) != `{"n":1}` {
		t.Fatalf("next body %q", r.body)
	}
	c.post("invocation/"+r.header.Get(runtimeapi.HeaderRequestID)+"/response", nil, nil)
	if res := wait(t, ch); res.Error != nil || len(res.Body) != 0 {
		t.Errorf("empty response: %+v", res)
	}
	// WaitNext keeps returning the first /next.
	again, _ := srv.WaitNext(context.Background())
	if !again.Equal(at) {
		t.Errorf("WaitNext moved from %v to %v", at, again)
	}
}

// answer fetches the next event and posts body to path (response or error).
func answer(t *testing.T, srv *runtimeapi.Server, c *client, action string, header map[string]string, body []byte) (reply, *runtimeapi.Result, string) {
	t.Helper()
	ch := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`)})
	id := c.next().header.Get(runtimeapi.HeaderRequestID)
	r := c.post("invocation/"+id+"/"+action, header, body)
	return r, wait(t, ch), id
}

func TestResponseSizeLimit(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: timeout})
	exact := bytes.Repeat([]byte("a"), runtimeapi.MaxResponseBytes)
	r, res, _ := answer(t, srv, c, "response", nil, exact)
	if r.code != http.StatusAccepted || res.Error != nil || len(res.Body) != len(exact) {
		t.Fatalf("6 MiB response: %d, error %v", r.code, res.Error)
	}
	r, res, id := answer(t, srv, c, "response", nil, append(exact, 'b'))
	if r.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("6 MiB + 1 response: %d %s, want 413", r.code, r.body)
	}
	if res.Error == nil || res.Error.Type != runtimeapi.ErrorTypeResponseTooLarge || res.Body != nil {
		t.Fatalf("oversized response result: %+v", res)
	}
	// The failed invocation is over: a second answer is refused.
	if r := c.post("invocation/"+id+"/response", nil, []byte(`1`)); r.code != http.StatusBadRequest {
		t.Errorf("answer after 413: %d, want 400", r.code)
	}
}

func TestErrorReports(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: timeout})
	tests := []struct {
		name   string
		header map[string]string
		body   string
		want   runtimeapi.FunctionError
		typ    string // want HeaderType
	}{
		// lambda_runtime (Rust) sends "unhandled" in the header with
		// every error: the body's type is the error's, as on Lambda.
		{"body type wins", map[string]string{runtimeapi.HeaderErrorType: "unhandled"},
			`{"errorMessage":"boom","errorType":"InvalidName","stackTrace":["a.go:1"]}`,
			runtimeapi.FunctionError{Type: "InvalidName", Message: "boom", StackTrace: []string{"a.go:1"}}, "unhandled"},
		{"body type without header", nil, `{"errorMessage":"boom","errorType":"BodyType"}`,
			runtimeapi.FunctionError{Type: "BodyType", Message: "boom"}, ""},
		{"header type when the body has none", map[string]string{runtimeapi.HeaderErrorType: "Runtime.HandlerError"}, `{"errorMessage":"boom"}`,
			runtimeapi.FunctionError{Type: "Runtime.HandlerError", Message: "boom"}, "Runtime.HandlerError"},
		{"no type at all", nil, `{"errorMessage":"boom"}`,
			runtimeapi.FunctionError{Type: "Unhandled", Message: "boom"}, ""},
		{"not JSON", map[string]string{runtimeapi.HeaderErrorType: "X"}, "plain text\n",
			runtimeapi.FunctionError{Type: "X", Message: "plain text"}, "X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, res, id := answer(t, srv, c, "error", tt.header, []byte(tt.body))
			if r.code != http.StatusAccepted {
				t.Fatalf("error post = %d %s, want 202", r.code, r.body)
			}
			if res.Error == nil {
				t.Fatal("result has no error")
			}
			got, _ := json.Marshal(res.Error)
			want, _ := json.Marshal(tt.want)
			if !bytes.Equal(got, want) || res.Error.HeaderType != tt.typ {
				t.Errorf("error = %s, header type %q; want %s, %q", got, res.Error.HeaderType, want, tt.typ)
			}
			if string(res.Body) != tt.body {
				t.Errorf("raw body = %q", res.Body)
			}
			if r := c.post("invocation/"+id+"/response", nil, []byte(`1`)); r.code != http.StatusBadRequest {
				t.Errorf("response after error: %d, want 400", r.code)
			}
		})
	}
}

func TestRequestIDErrors(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: timeout})
	for _, action := range []string{"response", "error"} {
		r := c.post("invocation/00000000-0000-4000-8000-000000000000/"+action, nil, []byte(`{}`))
		if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), "InvalidRequestID") {
			t.Errorf("%s for an unknown id: %d %s, want 400 InvalidRequestID", action, r.code, r.body)
		}
	}
	_, _, id := answer(t, srv, c, "response", nil, []byte(`1`))
	for _, action := range []string{"response", "error"} {
		if r := c.post("invocation/"+id+"/"+action, nil, []byte(`{}`)); r.code != http.StatusBadRequest {
			t.Errorf("repeated %s: %d, want 400", action, r.code)
		}
	}
}

func TestNextWhileBusy(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: timeout})
	ch := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`)})
	id := c.next().header.Get(runtimeapi.HeaderRequestID)
	if r := c.next(); r.code != http.StatusForbidden {
		t.Errorf("second /next before answering: %d, want 403", r.code)
	}
	c.post("invocation/"+id+"/response", nil, []byte(`1`))
	wait(t, ch)
}

func TestInitError(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: timeout})
	r := c.post("init/error", map[string]string{runtimeapi.HeaderErrorType: "Runtime.ConfigError"},
		[]byte(`{"errorMessage":"missing TABLE","errorType":"X"}`))
	if r.code != http.StatusAccepted {
		t.Fatalf("init/error = %d %s, want 202", r.code, r.body)
	}
	ie := srv.InitError()
	if ie == nil || ie.Type != "X" || ie.HeaderType != "Runtime.ConfigError" || ie.Message != "missing TABLE" {
		t.Fatalf("InitError = %+v", ie)
	}
	if _, err := srv.WaitNext(context.Background()); err == nil || !strings.Contains(err.Error(), "missing TABLE") {
		t.Errorf("WaitNext after init error = %v, want the init error", err)
	}
	if r := c.post("init/error", nil, []byte(`{}`)); r.code != http.StatusForbidden {
		t.Errorf("second init/error: %d, want 403", r.code)
	}

	// After the first /next the runtime is past init.
	srv2, c2 := start(t, runtimeapi.Options{Timeout: timeout})
	go func() {
		// Plain client: this request outlives the checks below, and a test
		// must not fail from a goroutine after it ended.
		if resp, err := http.Get(c2.base + "/2018-06-01/runtime/invocation/next"); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := srv2.WaitNext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := c2.post("init/error", nil, []byte(`{}`)); r.code != http.StatusForbidden {
		t.Errorf("init/error after /next: %d, want 403", r.code)
	}
	if srv2.InitError() != nil {
		t.Error("late init error recorded")
	}
}

func TestTimeout(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: 100 * time.Millisecond})
	ch := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`)})
	r := c.next()
	res := wait(t, ch)
	if res.Error == nil || res.Error.Type != runtimeapi.ErrorTypeTimeout {
		t.Fatalf("unanswered invocation: %+v, want %s", res, runtimeapi.ErrorTypeTimeout)
	}
	if d := res.Done.Sub(res.Sent); d < 100*time.Millisecond {
		t.Errorf("timed out after %v, before the 100ms timeout", d)
	}
	id := r.header.Get(runtimeapi.HeaderRequestID)
	if r := c.post("invocation/"+id+"/response", nil, []byte(`1`)); r.code != http.StatusBadRequest {
		t.Errorf("answer after timeout: %d, want 400", r.code)
	}
}

func TestClose(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: timeout})
	got := make(chan reply, 1)
	go func() { got <- c.next() }()
	if _, err := srv.WaitNext(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if r := <-got; r.code != http.StatusInternalServerError {
		t.Errorf("pending /next after Close: %d, want 500", r.code)
	}
	if r := c.next(); r.code != http.StatusInternalServerError {
		t.Errorf("/next after Close: %d, want 500", r.code)
	}
	if r := c.post("init/error", nil, []byte(`{}`)); r.code != http.StatusInternalServerError {
		t.Errorf("init/error after Close: %d, want 500", r.code)
	}
	if _, err := srv.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, runtimeapi.ErrClosed) {
		t.Errorf("Invoke after Close = %v, want ErrClosed", err)
	}
}

func TestInvokeContext(t *testing.T) {
	srv, _ := start(t, runtimeapi.Options{Timeout: timeout})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := srv.Invoke(ctx, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Invoke with no function = %v, want deadline exceeded", err)
	}
	if _, err := srv.WaitNext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitNext with no function = %v, want deadline exceeded", err)
	}
}

func TestRouting(t *testing.T) {
	_, c := start(t, runtimeapi.Options{Timeout: timeout})
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/2018-06-01/runtime/invocation/next", http.StatusMethodNotAllowed},
		{http.MethodGet, "/2018-06-01/runtime/init/error", http.StatusMethodNotAllowed},
		{http.MethodGet, "/2018-06-01/runtime/invocation/x/response", http.StatusMethodNotAllowed},
		{http.MethodPost, "/2018-06-01/runtime/invocation/x/other", http.StatusNotFound},
		{http.MethodPost, "/2018-06-01/runtime/invocation//response", http.StatusNotFound},
		{http.MethodGet, "/2018-06-01/runtime/unknown", http.StatusNotFound},
		{http.MethodGet, "/2020-01-01/runtime/invocation/next", http.StatusNotFound},
	}
	for _, tt := range tests {
		if r := c.do(tt.method, tt.path, nil, nil); r.code != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, r.code, tt.want)
		}
	}
}

func TestStreamedResponse(t *testing.T) {
	srv, c := start(t, runtimeapi.Options{Timeout: timeout})
	post := func(trailer http.Header) (int, *runtimeapi.Result) {
		ch := invokeAsync(srv, runtimeapi.Request{Payload: []byte(`{}`)})
		id := c.next().header.Get(runtimeapi.HeaderRequestID)
		pr, pw := io.Pipe()
		req, _ := http.NewRequest(http.MethodPost, c.base+"/2018-06-01/runtime/invocation/"+id+"/response", pr)
		req.Header.Set(runtimeapi.HeaderResponseMode, "streaming")
		req.Trailer = http.Header{}
		for k := range trailer {
			req.Trailer[k] = nil
		}
		go func() {
			_, _ = pw.Write([]byte("part1 "))
			_, _ = pw.Write([]byte("part2"))
			for k, v := range trailer {
				req.Trailer[k] = v
			}
			pw.Close()
		}()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, wait(t, ch)
	}
	code, res := post(nil)
	if code != http.StatusAccepted || string(res.Body) != "part1 part2" || res.Error != nil {
		t.Errorf("streamed response: %d %+v", code, res)
	}
	errBody := base64.StdEncoding.EncodeToString([]byte(`{"errorMessage":"mid-stream","errorType":"E"}`))
	code, res = post(http.Header{
		runtimeapi.HeaderErrorType: {"Runtime.StreamError"},
		runtimeapi.HeaderErrorBody: {errBody},
	})
	if code != http.StatusAccepted || res.Error == nil || res.Error.Type != "Runtime.StreamError" || res.Error.Message != "mid-stream" {
		t.Errorf("streamed error: %d %+v", code, res.Error)
	}
}
