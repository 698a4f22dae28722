package main

import "context"

// Request is the event: any JSON object; only "name" is read.
type Request struct {
	Name *string `json:"name"`
}

// Response is the result, returned to the caller as JSON.
type Response struct {
	Message string `json:"message"`
}

// InvalidName is the error for an empty name. Lambda reports a returned
// error with its type's name as errorType ("InvalidName") and its text as
// errorMessage.
type InvalidName struct{}

func (InvalidName) Error() string { return "name must not be empty" }

func handler(ctx context.Context, req Request) (Response, error) {
	name := "world"
	if req.Name != nil {
		name = *req.Name
	}
	if name == "" {
		return Response{}, InvalidName{}
	}
	return Response{Message: "Hello, " + name + "!"}, nil
}
