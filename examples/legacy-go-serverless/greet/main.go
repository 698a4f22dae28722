// Command greet answers GET /greet?name=... with a greeting.
package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Response is the JSON body of the answer.
type Response struct {
	Message string `json:"message"`
}

func greeting(name string) string {
	g := os.Getenv("GREETING")
	if g == "" {
		g = "Hello"
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = "world"
	}
	return g + ", " + name + "!"
}

// Handler is our lambda handler invoked by the `lambda.Start` function call.
func Handler(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body, err := json.Marshal(Response{Message: greeting(req.QueryStringParameters["name"])})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{StatusCode: 500}, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Body:       string(body),
		Headers:    map[string]string{"Content-Type": "application/json"},
	}, nil
}

func main() {
	lambda.Start(Handler)
}
