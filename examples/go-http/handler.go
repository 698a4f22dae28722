package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
)

type greeting struct {
	Message string `json:"message"`
}

// handler answers API Gateway HTTP API requests (payload format 2.0).
func handler(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body, err := json.Marshal(greeting{Message: "Hello from " + req.RequestContext.HTTP.Method + " " + req.RawPath})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(body),
	}, nil
}
