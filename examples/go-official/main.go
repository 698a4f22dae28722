// Command go-official is an AWS Lambda function for the provided.al2023 runtime.
// It is built into a static binary named bootstrap (see the Makefile).
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	// Work that must happen once per process (reading configuration,
	// creating SDK clients) belongs here, before Start: it runs during
	// Lambda's init phase, not on the first request's clock.
	lambda.Start(handler)
}
