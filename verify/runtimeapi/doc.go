// Package runtimeapi is an in-process emulator of the AWS Lambda Runtime API
// (version 2018-06-01), the HTTP API a custom runtime (provided.al2023)
// talks to from inside its execution environment.
//
// A *Server is an http.Handler. Serve it on a loopback listener and start
// the function with AWS_LAMBDA_RUNTIME_API=host:port; then hand it events
// with Invoke and learn when its init finished with WaitNext:
//
//	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "fn", MemoryMB: 128, Timeout: 3 * time.Second})
//	ts := httptest.NewServer(srv)
//	defer ts.Close()
//	defer srv.Close()
//	// start the function with AWS_LAMBDA_RUNTIME_API=<ts.Listener.Addr()>
//	initAt, err := srv.WaitNext(ctx)
//	res, err := srv.Invoke(ctx, []byte(`{"hello":"world"}`))
//
// The emulator follows the documented contract
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
//
//   - GET /2018-06-01/runtime/invocation/next blocks until an event is
//     queued and returns it with the Lambda-Runtime-Aws-Request-Id,
//     Lambda-Runtime-Deadline-Ms (the sending time plus Options.Timeout),
//     Lambda-Runtime-Invoked-Function-Arn and Lambda-Runtime-Trace-Id
//     headers, plus Lambda-Runtime-Client-Context and
//     Lambda-Runtime-Cognito-Identity when the invocation carries them.
//   - POST .../invocation/{id}/response answers 202. A body larger than
//     MaxResponseBytes (6 MiB, Lambda's limit for synchronous invocations)
//     answers 413 and the invocation fails with
//     Function.ResponseSizeTooLarge, as on Lambda. Streamed responses
//     (Lambda-Runtime-Function-Response-Mode: streaming) are accepted up
//     to MaxStreamedResponseBytes, with errors reported in the
//     Lambda-Runtime-Function-Error-Type/-Body trailers.
//   - POST .../invocation/{id}/error records the function's error (type,
//     message and stack trace from the JSON body, as the caller gets it;
//     the Lambda-Runtime-Function-Error-Type header kept apart, as AWS's
//     Runtime Interface Emulator keeps it, and the type only when the body
//     has none) and answers 202.
//   - POST /2018-06-01/runtime/init/error records an init failure; after
//     the function's first /next it is a state error (403).
//   - An id the emulator never issued, or one already answered or timed
//     out, gets 400. After Close every request gets 500 (container error:
//     the runtime should exit).
//
// Served through TimedListener with ConnContext, the end of init (the
// first /next) is the moment the request's first bytes were read from the
// socket rather than when the HTTP server got round to handling it.
//
// NewInvokeAPI adds Lambda's own Invoke API
// (POST /2015-03-31/functions/{name}/invocations) on top, so that a person
// can invoke a locally running function with curl.
package runtimeapi
