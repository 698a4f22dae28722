package awslambda

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"
)

// The errors a user can act on are typed, so that a command can put its
// own flag names in front of them; their messages name none.

// CredentialsError: the standard credential chain found no credentials.
type CredentialsError struct{ Err error }

func (e *CredentialsError) Error() string {
	return "no AWS credentials found: set AWS_PROFILE (after `aws sso login` or `aws configure`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or in GitHub Actions use OIDC (docs/aws.md)"
}
func (e *CredentialsError) Unwrap() error { return e.Err }

// ErrNoRegion: neither the options, the environment nor the profile name
// a region.
var ErrNoRegion = errors.New("no AWS region: set AWS_REGION, or a region in the AWS profile")

// ErrNoRole: temporary functions need an execution role and none was
// given.
var ErrNoRole = errors.New("no execution role for the temporary functions: name an IAM role Lambda can assume in fnopt.yaml (aws: {role: ARN}); docs/aws.md shows a minimal one")

// AccessDeniedError is an AWS call the identity may not make.
type AccessDeniedError struct {
	// Action is the IAM action refused, as "lambda:CreateFunction".
	Action string
	Err    error
}

func (e *AccessDeniedError) Error() string {
	return fmt.Sprintf("AWS denied %s: allow it to this identity (the minimal IAM policy is in docs/aws.md)", e.Action)
}
func (e *AccessDeniedError) Unwrap() error { return e.Err }

// TooLargeError is a zip over Lambda's 50 MB limit for a zip uploaded
// with the request. (Staging zips through S3 is not supported: an image
// takes up to 10 GB.)
type TooLargeError struct {
	Path  string
	Bytes int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %.1f MB, over Lambda's 50 MB limit for a zip uploaded directly: ship the function as an image (package: image in fnopt.yaml) and push it to ECR", e.Path, float64(e.Bytes)/(1<<20))
}

// ErrNoRepository: an image needs an ECR repository to be pushed to.
var ErrNoRepository = errors.New("an image must be pushed to an Amazon ECR repository before Lambda can run it: name one")

// FunctionError is the function failing on Lambda: in init, or its
// handler answering with an error. It is the function's own failure, not
// fnopt's.
type FunctionError struct {
	// Function is the temporary function; Config describes it.
	Function string
	Config   string
	// Phase is "init" or "invoke".
	Phase string
	// Type and Message are the error Lambda returned.
	Type, Message string
	// Log is the invocation's log tail.
	Log string
}

func (e *FunctionError) Error() string {
	msg := fmt.Sprintf("the function failed in %s on Lambda (%s)", e.Phase, e.Config)
	if e.Type != "" {
		msg += ": " + e.Type
	}
	if e.Message != "" {
		msg += ": " + firstLine(e.Message)
	}
	return msg
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// accessDenied turns an AWS AccessDenied answer into *AccessDeniedError,
// naming the action refused; other errors pass unchanged.
func accessDenied(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	code := ae.ErrorCode()
	if code != "AccessDeniedException" && code != "AccessDenied" && code != "UnauthorizedOperation" {
		return err
	}
	// AWS says "... is not authorized to perform: lambda:CreateFunction on
	// resource: ..."; the operation's name is the fallback.
	action := ""
	if _, rest, ok := strings.Cut(ae.ErrorMessage(), "perform: "); ok {
		action, _, _ = strings.Cut(rest, " ")
	}
	var oe *smithy.OperationError
	if action == "" && errors.As(err, &oe) {
		action = iamPrefix(oe.Service()) + ":" + oe.Operation()
	}
	if action == "" {
		action = "a call"
	}
	return &AccessDeniedError{Action: action, Err: err}
}

// iamPrefix is the IAM action prefix of an SDK service ID.
func iamPrefix(service string) string {
	switch service {
	case "Lambda":
		return "lambda"
	case "ECR":
		return "ecr"
	case "STS":
		return "sts"
	}
	return strings.ToLower(service)
}
