package lambdatest

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// client is a real SDK client pointed at the double with the given secret.
func client(srv *Server, secret string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       Region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

func TestSignatureChecked(t *testing.T) {
	srv := Start(t, Options{})
	ctx := context.Background()
	_, err := client(srv, "wrong-secret").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("a request signed with the wrong secret: %v, want UnrecognizedClientException", err)
	}
	if _, err := client(srv, SecretAccessKey).ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
		t.Fatalf("a correctly signed request: %v", err)
	}
}

func TestErrorShapes(t *testing.T) {
	srv := Start(t, Options{RetryAfter: 7})
	c := client(srv, SecretAccessKey)
	ctx := context.Background()

	_, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("missing function: %v, want ResourceNotFoundException", err)
	}

	srv.Throttle("lambda:ListFunctions", 1)
	_, err = c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) || aws.ToString(tm.RetryAfterSeconds) != "7" {
		t.Errorf("throttled: %v, want TooManyRequestsException with Retry-After 7", err)
	}

	srv.Deny("lambda:ListFunctions")
	_, err = c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	var ad smithy.APIError
	if !errors.As(err, &ad) || ad.ErrorCode() != "AccessDeniedException" {
		t.Errorf("denied: %v, want AccessDeniedException", err)
	}

	srv.AddFunction("someone-elses", nil, 0)
	srv.Conflict("lambda:UpdateFunctionConfiguration", 1)
	_, err = c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("someone-elses")})
	var rc *types.ResourceConflictException
	if !errors.As(err, &rc) {
		t.Errorf("conflict: %v, want ResourceConflictException", err)
	}
}

const isARM64 = runtime.GOARCH == "arm64"
