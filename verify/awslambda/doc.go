// Package awslambda measures cold starts on AWS Lambda itself: it deploys
// a function's zip or image as temporary functions (one per memory size
// and architecture asked for), forces new execution environments by
// changing an environment variable, invokes each function C times at once
// per round, and reads Lambda's own REPORT lines (Init Duration, Duration,
// Billed Duration, Max Memory Used). Every function it creates is deleted
// before Verify returns, whatever happens, unless the caller keeps them;
// Cleanup removes those a killed run left behind. A function that fnopt
// did not create is never modified.
//
// The package speaks to AWS through the AWS SDK for Go v2 and the standard
// credential chain. Its tests run the real SDK against a protocol double
// of the Lambda, STS and ECR APIs (package lambdatest), never against AWS.
package awslambda
