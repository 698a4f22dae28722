// Command lambdago is a function built on aws-lambda-go, the client real
// Go functions use: verify's tests run it against the emulator.
package main

import (
	"context"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Hello string `json:"hello"`
	Fail  bool   `json:"fail"`
}

type answer struct {
	Greeting    string `json:"greeting"`
	RequestID   string `json:"request_id"`
	HasDeadline bool   `json:"has_deadline"`
}

func handle(ctx context.Context, e event) (answer, error) {
	if e.Fail {
		return answer{}, errors.New("asked to fail")
	}
	lc, _ := lambdacontext.FromContext(ctx)
	_, ok := ctx.Deadline()
	return answer{Greeting: "hello " + e.Hello, RequestID: lc.AwsRequestID, HasDeadline: ok}, nil
}

func main() { lambda.Start(handle) }
