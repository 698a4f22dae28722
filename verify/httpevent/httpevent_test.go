package httpevent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func TestEvent(t *testing.T) {
	now := time.Date(2020, 3, 12, 19, 3, 58, 390e6, time.UTC)
	r := httptest.NewRequest("POST", "http://api.local:3000/my/path?a=1&a=2&b=x", strings.NewReader(`{"n":1}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	r.Header.Set("Cookie", "c1=v1; c2=v2")
	r.Header.Set("User-Agent", "test-agent")

	for _, kind := range []Kind{HTTPAPI, FunctionURL} {
		doc, err := Event(kind, r, []byte(`{"n":1}`), "123456789012", now)
		if err != nil {
			t.Fatal(err)
		}
		// Both shapes decode into the HTTP API's type; the function URL's
		// lacks the route and stage.
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(doc, &ev); err != nil {
			t.Fatal(err)
		}
		want := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RawPath: "/my/path", RawQueryString: "a=1&a=2&b=x",
			Cookies:               []string{"c1=v1", "c2=v2"},
			Headers:               map[string]string{"content-type": "application/json", "x-multi": "one,two", "user-agent": "test-agent", "host": "api.local:3000", "content-length": "7"},
			QueryStringParameters: map[string]string{"a": "1,2", "b": "x"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				AccountID: "123456789012", RequestID: ev.RequestContext.RequestID, APIID: "local",
				DomainName: "api.local:3000", DomainPrefix: "api", Time: "12/Mar/2020:19:03:58 +0000", TimeEpoch: 1584039838390,
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/my/path", Protocol: "HTTP/1.1", SourceIP: "192.0.2.1", UserAgent: "test-agent"},
			},
			Body: `{"n":1}`,
		}
		if kind == HTTPAPI {
			want.RouteKey, want.RequestContext.RouteKey, want.RequestContext.Stage = "$default", "$default", "$default"
		}
		if len(ev.RequestContext.RequestID) != 32 {
			t.Errorf("%s: request id %q", kind, ev.RequestContext.RequestID)
		}
		if !reflect.DeepEqual(ev, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", kind, ev, want)
		}
	}
}

func TestEventBody(t *testing.T) {
	tests := []struct {
		contentType string
		body        []byte
		wantBody    string
		wantB64     bool
	}{
		{"text/plain; charset=utf-8", []byte("héllo"), "héllo", false},
		{"application/vnd.api+json", []byte(`{}`), `{}`, false},
		{"application/x-www-form-urlencoded", []byte("a=1"), "a=1", false},
		{"application/octet-stream", []byte{0, 1, 2}, "AAEC", true},
		{"text/plain", []byte{0xff, 0xfe}, "//4=", true},
		{"", []byte("no type"), "bm8gdHlwZQ==", true},
		{"text/plain", nil, "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("PUT", "/", nil)
		r.Header.Set("Content-Type", tt.contentType)
		doc, err := Event(HTTPAPI, r, tt.body, "1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(doc, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Body != tt.wantBody || ev.IsBase64Encoded != tt.wantB64 {
			t.Errorf("%q %q: body %q base64 %v, want %q %v", tt.contentType, tt.body, ev.Body, ev.IsBase64Encoded, tt.wantBody, tt.wantB64)
		}
	}
}

func TestWriteResponse(t *testing.T) {
	tests := []struct {
		name       string
		answer     string
		wantCode   int
		wantHeader http.Header
		wantBody   string
		wantErr    string
	}{
		{
			name:     "full response",
			answer:   `{"statusCode":201,"headers":{"x-one":"1","content-type":"text/plain"},"multiValueHeaders":{"x-many":["a","b"]},"cookies":["s=1; Path=/","t=2"],"body":"made"}`,
			wantCode: 201, wantBody: "made",
			wantHeader: http.Header{"X-One": {"1"}, "Content-Type": {"text/plain"}, "X-Many": {"a", "b"}, "Set-Cookie": {"s=1; Path=/", "t=2"}},
		},
		{
			name:     "base64 body",
			answer:   `{"statusCode":200,"headers":{"content-type":"application/octet-stream"},"body":"AAEC","isBase64Encoded":true}`,
			wantCode: 200, wantBody: "\x00\x01\x02",
			wantHeader: http.Header{"Content-Type": {"application/octet-stream"}},
		},
		{
			name:     "no statusCode: the document is the body",
			answer:   `{"message":"hi"}`,
			wantCode: 200, wantBody: `{"message":"hi"}`,
			wantHeader: http.Header{"Content-Type": {"application/json"}},
		},
		{
			name:     "a JSON string: its text is the body",
			answer:   `"Hello from Lambda!"`,
			wantCode: 200, wantBody: "Hello from Lambda!",
			wantHeader: http.Header{"Content-Type": {"application/json"}},
		},
		{name: "not JSON", answer: `hello`, wantErr: "not JSON"},
		{name: "bad status", answer: `{"statusCode":42}`, wantErr: "statusCode 42"},
		{name: "bad base64", answer: `{"statusCode":200,"body":"%%","isBase64Encoded":true}`, wantErr: "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			err := WriteResponse(rec, []byte(tt.answer))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.wantCode || rec.Body.String() != tt.wantBody || !reflect.DeepEqual(rec.Header(), tt.wantHeader) {
				t.Errorf("got %d %v %q, want %d %v %q", rec.Code, rec.Header(), rec.Body, tt.wantCode, tt.wantHeader, tt.wantBody)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name     string
		invoke   Invoker
		body     string
		wantCode int
		wantBody string
		wantLog  string
	}{
		{
			name: "the function's answer",
			invoke: func(_ context.Context, ev []byte) ([]byte, error) {
				var req events.APIGatewayV2HTTPRequest
				_ = json.Unmarshal(ev, &req)
				return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 418, Body: req.RequestContext.HTTP.Method + " " + req.RawPath + " " + req.Body})
			},
			body: "tea", wantCode: 418, wantBody: "POST /pot tea",
		},
		{
			name:     "the function failed",
			invoke:   func(context.Context, []byte) ([]byte, error) { return nil, errors.New("HandlerError: boom") },
			wantCode: 500, wantBody: `{"message":"Internal Server Error"}`, wantLog: "fnopt: POST /pot: HandlerError: boom\n",
		},
		{
			name:     "a body over the limit",
			invoke:   func(context.Context, []byte) ([]byte, error) { t.Error("invoked"); return nil, nil },
			body:     strings.Repeat("x", MaxBodyBytes+1),
			wantCode: 413, wantBody: `{"message":"Request Entity Too Large"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			srv := httptest.NewServer(Handler(HTTPAPI, "123456789012", tt.invoke, &log))
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/pot", "text/plain", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode || string(b) != tt.wantBody || log.String() != tt.wantLog {
				t.Errorf("got %d %q log %q, want %d %q log %q", resp.StatusCode, b, log.String(), tt.wantCode, tt.wantBody, tt.wantLog)
			}
		})
	}
}

func TestParseKind(t *testing.T) {
	for in, ok := range map[string]bool{"http": true, "url": true, "sqs": false, "": false} {
		if _, err := ParseKind(in); (err == nil) != ok {
			t.Errorf("ParseKind(%q) = %v", in, err)
		}
	}
}
