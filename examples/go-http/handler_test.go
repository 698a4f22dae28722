package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestHandler(t *testing.T) {
	// A real API Gateway HTTP API request (GET /).
	data, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("decoding the sample event: %v", err)
	}
	resp, err := handler(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Body != `{"message":"Hello from GET /"}` || resp.Headers["content-type"] != "application/json" {
		t.Errorf("response = %+v", resp)
	}
}
