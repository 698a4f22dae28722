package runtimeapi_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// fakeFunction answers every event from the emulator at base with fn.
func fakeFunction(t *testing.T, base string, fn func(event []byte, h http.Header) (action string, body []byte)) {
	go func() {
		for {
			resp, err := http.Get(base + "/2018-06-01/runtime/invocation/next")
			if err != nil {
				return
			}
			event, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return
			}
			action, body := fn(event, resp.Header)
			id := resp.Header.Get(runtimeapi.HeaderRequestID)
			req, _ := http.NewRequest(http.MethodPost, base+"/2018-06-01/runtime/invocation/"+id+"/"+action, bytes.NewReader(body))
			if action == "error" {
				// As Rust's lambda_runtime reports every error.
				req.Header.Set(runtimeapi.HeaderErrorType, "unhandled")
			}
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			r.Body.Close()
		}
	}()
}

func TestInvokeAPI(t *testing.T) {
	srv := runtimeapi.New(runtimeapi.Options{Timeout: timeout})
	mux := http.NewServeMux()
	mux.Handle("/2018-06-01/", srv)
	mux.Handle("/2015-03-31/", runtimeapi.NewInvokeAPI(srv))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	fakeFunction(t, ts.URL, func(event []byte, h http.Header) (string, []byte) {
		switch string(event) {
		case `"fail"`:
			return "error", []byte(`{"errorMessage":"asked to fail","errorType":"Boom"}`)
		case `"context"`:
			return "response", []byte(h.Get(runtimeapi.HeaderClientContext))
		}
		return "response", append([]byte("echo:"), event...)
	})

	tests := []struct {
		name     string
		path     string
		header   map[string]string
		body     string
		code     int
		wantBody string
		funcErr  string
	}{
		{"response", runtimeapi.InvokePath("function"), nil, `{"a":1}`, 200, `echo:{"a":1}`, ""},
		{"empty payload is {}", runtimeapi.InvokePath("any-name"), nil, ``, 200, `echo:{}`, ""},
		// The error document as the function posted it, its errorType
		// not replaced by the runtime's header.
		{"function error", runtimeapi.InvokePath("function"), nil, `"fail"`, 200, `{"errorMessage":"asked to fail","errorType":"Boom"}`, "Unhandled"},
		{"client context decoded", runtimeapi.InvokePath("function"),
			map[string]string{"X-Amz-Client-Context": base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))},
			`"context"`, 200, `{"custom":{"k":"v"}}`, ""},
		{"bad client context", runtimeapi.InvokePath("function"), map[string]string{"X-Amz-Client-Context": "%%"}, `{}`, 400, "base64", ""},
		{"dry run", runtimeapi.InvokePath("function"), map[string]string{"X-Amz-Invocation-Type": "DryRun"}, `{}`, 204, "", ""},
		{"unknown invocation type", runtimeapi.InvokePath("function"), map[string]string{"X-Amz-Invocation-Type": "Later"}, `{}`, 400, "X-Amz-Invocation-Type", ""},
		{"too large", runtimeapi.InvokePath("function"), nil, strings.Repeat("x", runtimeapi.MaxResponseBytes+1), 413, "must be smaller than 6291456 bytes", ""},
		{"bad path", "/2015-03-31/functions/a/b/invocations", nil, `{}`, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+tt.path, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("%d %s, want %d containing %q", resp.StatusCode, body, tt.code, tt.wantBody)
			}
			if got := resp.Header.Get("X-Amz-Function-Error"); got != tt.funcErr {
				t.Errorf("X-Amz-Function-Error = %q, want %q", got, tt.funcErr)
			}
			if tt.code == 200 && resp.Header.Get("X-Amzn-RequestId") == "" {
				t.Error("no X-Amzn-RequestId")
			}
		})
	}
}
