package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeAPI is a Runtime API that hands out queued events and records what
// the runtime posts back.
type fakeAPI struct {
	mu     sync.Mutex
	events []map[string]string // headers of each event; "body" is the payload
	posts  []post
}

type post struct {
	path, errorType string
	body            []byte
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == "GET" && r.URL.Path == apiPrefix+"/invocation/next" {
		if len(f.events) == 0 {
			// No more events: end the loop under test with a fatal answer.
			http.Error(w, "no more events", http.StatusGone)
			return
		}
		ev := f.events[0]
		f.events = f.events[1:]
		for k, v := range ev {
			if k != "body" {
				w.Header().Set(k, v)
			}
		}
		io.WriteString(w, ev["body"])
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.posts = append(f.posts, post{r.URL.Path, r.Header.Get("Lambda-Runtime-Function-Error-Type"), body})
	w.WriteHeader(http.StatusAccepted)
}

func start(t *testing.T, f *fakeAPI) *runtimeClient {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	rt, err := newRuntime(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func event(id, body string) map[string]string {
	return map[string]string{
		"Lambda-Runtime-Aws-Request-Id":       id,
		"Lambda-Runtime-Deadline-Ms":          "4102444800000", // 2100-01-01
		"Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
		"Lambda-Runtime-Trace-Id":             "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c",
		"Lambda-Runtime-Client-Context":       `{"custom":{"k":"v"}}`,
		"Lambda-Runtime-Cognito-Identity":     `{"cognitoIdentityId":"id"}`,
		"Lambda-Runtime-Aws-Tenant-Id":        "tenant-1",
		"body":                                body,
	}
}

type in struct {
	Name string `json:"name"`
}

type failure struct{}

func (failure) Error() string { return "it failed" }

func TestInvocations(t *testing.T) {
	f := &fakeAPI{events: []map[string]string{
		event("ok", `{"name":"a"}`),
		event("typed-error", `{"name":"fail"}`),
		event("lambda-error", `{"name":"lambda-error"}`),
		event("bad-json", `[1,2]`),
		event("panic", `{"name":"panic"}`),
		event("never", `{"name":"a"}`), // not reached: a panic ends the loop
	}}
	rt := start(t, f)
	var seen Context
	h := func(ctx context.Context, e in) (map[string]string, error) {
		lc, ok := FromContext(ctx)
		if !ok {
			t.Error("no Lambda context in the handler's context")
		}
		switch e.Name {
		case "fail":
			return nil, failure{}
		case "lambda-error":
			return nil, &Error{Type: "Custom.Type", Message: "custom"}
		case "panic":
			panic("boom")
		}
		seen = *lc
		if d, ok := ctx.Deadline(); !ok || !d.Equal(lc.Deadline) {
			t.Errorf("context deadline %v, want %v", d, lc.Deadline)
		}
		return map[string]string{"hello": e.Name, "trace": os.Getenv("_X_AMZN_TRACE_ID")}, nil
	}
	err := rt.serve(context.Background(), rawHandler(Handler[in, map[string]string](h)))
	if err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Fatalf("serve ended with %v, want the panic", err)
	}
	if seen.AwsRequestID != "ok" || seen.InvokedFunctionArn == "" || seen.Deadline.Year() != 2100 ||
		seen.ClientContext != `{"custom":{"k":"v"}}` || seen.CognitoIdentity != `{"cognitoIdentityId":"id"}` || seen.TenantID != "tenant-1" {
		t.Errorf("context = %+v", seen)
	}
	want := []struct{ path, errorType, body string }{
		{"/invocation/ok/response", "", `{"hello":"a","trace":"Root=1-5e9f0c65-1de4d666d4dd26aced652b6c"}`},
		{"/invocation/typed-error/error", "failure", `{"errorType":"failure","errorMessage":"it failed"}`},
		{"/invocation/lambda-error/error", "Custom.Type", `{"errorType":"Custom.Type","errorMessage":"custom"}`},
		{"/invocation/bad-json/error", "Runtime.UnmarshalError", ""},
		{"/invocation/panic/error", "string", ""},
	}
	if len(f.posts) != len(want) {
		t.Fatalf("posts = %d, want %d: %+v", len(f.posts), len(want), f.posts)
	}
	for i, w := range want {
		p := f.posts[i]
		if p.path != apiPrefix+w.path || p.errorType != w.errorType {
			t.Errorf("post %d: %s (%q), want %s (%q)", i, p.path, p.errorType, w.path, w.errorType)
		}
		if w.body != "" && string(p.body) != w.body {
			t.Errorf("post %d body %s, want %s", i, p.body, w.body)
		}
	}
	var pe Error
	if err := json.Unmarshal(f.posts[4].body, &pe); err != nil || pe.Message != "boom" || len(pe.StackTrace) == 0 {
		t.Errorf("panic report %s (%v), want message boom and a stack trace", f.posts[4].body, err)
	}
}

func TestChunkedEvent(t *testing.T) {
	big := `{"name":"` + strings.Repeat("x", 100<<10) + `"}`
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			if got != "" {
				http.Error(w, "done", http.StatusGone)
				return
			}
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "big")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", "4102444800000")
			// Written in pieces with flushes, so net/http sends it chunked.
			for i := 0; i < len(big); i += 7000 {
				io.WriteString(w, big[i:min(i+7000, len(big))])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	rt, _ := newRuntime(strings.TrimPrefix(srv.URL, "http://"))
	h := func(_ context.Context, e in) (int, error) { got = e.Name; return len(e.Name), nil }
	if err := rt.serve(context.Background(), rawHandler(Handler[in, int](h))); err == nil {
		t.Fatal("serve returned nil")
	}
	if len(got) != 100<<10 {
		t.Errorf("handler saw a name of %d bytes, want %d", len(got), 100<<10)
	}
}

func TestInitErrorDocument(t *testing.T) {
	f := &fakeAPI{}
	rt := start(t, f)
	if err := rt.postError(apiPrefix+"/init/error", errorFor(errors.New("no config"))); err != nil {
		t.Fatal(err)
	}
	if len(f.posts) != 1 || f.posts[0].path != apiPrefix+"/init/error" || f.posts[0].errorType != "errorString" {
		t.Fatalf("posts = %+v", f.posts)
	}
}

func TestMissingAPI(t *testing.T) {
	if _, err := newRuntime(""); err == nil {
		t.Fatal("newRuntime accepted an empty AWS_LAMBDA_RUNTIME_API")
	}
}

func TestSockaddr(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:9001":         "4 127.0.0.1 9001",
		"localhost:9001":         "4 127.0.0.1 9001",
		"[::1]:9001":             "6 ::1 9001",
		"[fd00::2:1]:80":         "6 fd00::2:1 80",
		"[1:2:3:4:5:6:7:8]:80":   "6 1:2:3:4:5:6:7:8 80",
		"127.0.0.1":              "error",
		"127.0.0.1:0":            "error",
		"127.0.0.1:70000":        "error",
		"127.0.0.01:9001":        "error",
		"1.2.3:9001":             "error",
		"runtime.local:9001":     "error",
		"[::1::2]:9001":          "error",
		"[1:2:3:4:5:6:7:8:9]:80": "error",
	} {
		sa, _, err := sockaddr(addr)
		got := "error"
		switch a := sa.(type) {
		case *syscall.SockaddrInet4:
			got = fmt.Sprintf("4 %s %d", netip.AddrFrom4(a.Addr), a.Port)
		case *syscall.SockaddrInet6:
			got = fmt.Sprintf("6 %s %d", netip.AddrFrom16(a.Addr), a.Port)
		}
		if got != want {
			t.Errorf("sockaddr(%q) = %s (%v), want %s", addr, got, err, want)
		}
	}
}

func TestDeadlineIsMilliseconds(t *testing.T) {
	f := &fakeAPI{events: []map[string]string{event("d", `{}`)}}
	f.events[0]["Lambda-Runtime-Deadline-Ms"] = "1700000000123"
	rt := start(t, f)
	inv, err := rt.next()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2023, 11, 14, 22, 13, 20, 123e6, time.UTC); !inv.ctx.Deadline.Equal(want) {
		t.Errorf("deadline %v, want %v", inv.ctx.Deadline.UTC(), want)
	}
}
