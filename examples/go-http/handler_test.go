package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// request turns the real API Gateway sample event into a request for
// method and path.
func request(t *testing.T, method, path string, query map[string]string, body string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	data, err := os.ReadFile("testdata/event.json") // a real HTTP API request (GET /)
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("decoding the sample event: %v", err)
	}
	req.RequestContext.HTTP.Method, req.RawPath, req.RequestContext.HTTP.Path = method, path, path
	req.QueryStringParameters, req.Body = query, body
	return req
}

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
		body   string
	}{
		{"sample event: GET /", request(t, "GET", "/", nil, ""), 404, `{"error":"no route /: use GET /hello or POST /total"}`},
		{"hello", request(t, "GET", "/hello", map[string]string{"name": "Ada"}, ""), 200, `{"message":"Hello, Ada!"}`},
		{"hello without a name", request(t, "GET", "/hello", nil, ""), 200, `{"message":"Hello, world!"}`},
		{"wrong method", request(t, "DELETE", "/hello", nil, ""), 405, `{"error":"DELETE is not allowed on /hello"}`},
		{"total", request(t, "POST", "/total", nil, `{"items":[{"name":"tea","cents":250,"quantity":2},{"name":"cake","cents":399,"quantity":1}]}`),
			200, `{"items":2,"total_cents":899}`},
		{"total, base64 body", func() events.APIGatewayV2HTTPRequest {
			r := request(t, "POST", "/total", nil, base64.StdEncoding.EncodeToString([]byte(`{"items":[{"name":"tea","cents":250,"quantity":3}]}`)))
			r.IsBase64Encoded = true
			return r
		}(), 200, `{"items":1,"total_cents":750}`},
		{"empty order", request(t, "POST", "/total", nil, `{"items":[]}`), 400, `{"error":"the order has no items"}`},
		{"negative price", request(t, "POST", "/total", nil, `{"items":[{"name":"x","cents":-1,"quantity":1}]}`), 400,
			`{"error":"item 1 (\"x\"): cents must be ≥ 0 and quantity ≥ 1, and their product at most 1099511627776"}`},
		{"not JSON", request(t, "POST", "/total", nil, `items`), 400, `{"error":"the body is not an order: invalid character 'i' looking for beginning of value"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := handler(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || resp.Body != tc.body || resp.Headers["content-type"] != "application/json" {
				t.Errorf("response = %d %s %v; want %d %s", resp.StatusCode, resp.Body, resp.Headers, tc.status, tc.body)
			}
		})
	}
}
