package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestHandler(t *testing.T) {
	tests := []struct {
		name, query, greeting, want string
	}{
		{"named", "Ada", "", `{"message":"Hello, Ada!"}`},
		{"anonymous", "", "", `{"message":"Hello, world!"}`},
		{"custom greeting", " Bob ", "Hi", `{"message":"Hi, Bob!"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GREETING", tt.greeting)
			resp, err := Handler(context.Background(), events.APIGatewayV2HTTPRequest{
				QueryStringParameters: map[string]string{"name": tt.query}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Body != tt.want {
				t.Errorf("got %d %s, want 200 %s", resp.StatusCode, resp.Body, tt.want)
			}
		})
	}
}
