// Command go-sqs is an AWS Lambda function for the provided.al2023 runtime.
// It is built into a static binary named bootstrap (see the Makefile).
// It uses the small runtime client in internal/lambda, which links no
// more than the standard library and starts faster than aws-lambda-go.
package main

import "go-sqs/internal/lambda"

func main() {
	// Work that must happen once per process (reading configuration,
	// creating SDK clients) belongs here, before Start: it runs during
	// Lambda's init phase, not on the first request's clock.
	// When it fails, report it with lambda.InitError(err).
	lambda.Start(handler)
}
