package awslambda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// NamePrefix starts the name of every function fnopt deploys to measure.
const NamePrefix = "fnopt-verify-"

// TagTemporary marks fnopt's temporary functions (value "true"); TagCreated
// holds when one was created (RFC 3339, UTC). Cleanup deletes only
// functions that have both, a NamePrefix name, and an old enough date.
const (
	TagTemporary = "fnopt:temporary"
	TagCreated   = "fnopt:created"
)

// NonceVariable is the environment variable changed to force new
// execution environments: Lambda starts fresh ones for every invocation
// after a configuration change.
const NonceVariable = "FNOPT_NONCE"

// MaxZipUpload is Lambda's limit for a zip uploaded in the request itself.
const MaxZipUpload = 50 << 20

// code is what a function runs.
type code struct {
	zip      []byte // a deployment zip, uploaded directly
	imageURI string // an image in ECR, by digest
}

// spec is one temporary function to create.
type spec struct {
	arch     settings.Arch
	memoryMB int
	code     code
	role     string
	timeout  time.Duration
	// env are the function's own variables (KEY=VALUE), set beside the
	// nonce.
	env []string
}

// variables are the function's environment: its own variables and the
// nonce that forces new execution environments.
func (s spec) variables() map[string]string {
	vars := map[string]string{}
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	vars[NonceVariable] = newNonce()
	return vars
}

// function is a temporary function that exists.
type function struct {
	name, arn string
	spec      spec
}

// fleet is the temporary functions of one run. A name is recorded before
// the function is asked for, so that deleting the fleet also deletes a
// function whose creation was under way when the run was interrupted.
type fleet struct {
	acct    *Account
	backoff Backoff
	stats   *retryStats

	mu    sync.Mutex
	names []string
}

func newName() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return NamePrefix + hex.EncodeToString(b[:])
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (f *fleet) record(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names = append(f.names, name)
}

func (f *fleet) forget(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, n := range f.names {
		if n == name {
			f.names = append(f.names[:i], f.names[i+1:]...)
			return
		}
	}
}

// Names are the functions of the fleet (those asked for included).
func (f *fleet) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.names...)
}

// create makes a new temporary function and waits until it is Active.
// The name is new: should it exist already, another name is drawn, and
// the existing function is left alone.
func (f *fleet) create(ctx context.Context, s spec, now time.Time) (*function, error) {
	in := &lambda.CreateFunctionInput{
		Role:          aws.String(s.role),
		Architectures: []types.Architecture{types.Architecture(s.arch)},
		MemorySize:    aws.Int32(int32(s.memoryMB)),
		Timeout:       aws.Int32(int32(max(1, s.timeout/time.Second))),
		Description:   aws.String("temporary function of fnopt verify, deleted when the run ends; fnopt verify --target aws --cleanup removes one a killed run left"),
		Environment:   &types.Environment{Variables: s.variables()},
		Tags:          map[string]string{TagTemporary: "true", TagCreated: now.UTC().Format(time.RFC3339)},
		Publish:       false,
	}
	if s.code.imageURI != "" {
		in.PackageType = types.PackageTypeImage
		in.Code = &types.FunctionCode{ImageUri: aws.String(s.code.imageURI)}
	} else {
		in.PackageType = types.PackageTypeZip
		in.Runtime = types.Runtime(settings.Runtime)
		in.Handler = aws.String(settings.Handler)
		in.Code = &types.FunctionCode{ZipFile: s.code.zip}
	}
	for range 3 {
		name := newName()
		in.FunctionName = aws.String(name)
		f.record(name)
		var out *lambda.CreateFunctionOutput
		err := f.backoff.do(ctx, f.stats, func(ctx context.Context) error {
			var err error
			out, err = f.acct.lambda.CreateFunction(ctx, in)
			var rc *types.ResourceConflictException
			if errors.As(err, &rc) {
				return errExists // not ours: never retried, never touched
			}
			return err
		})
		if errors.Is(err, errExists) {
			f.forget(name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating a temporary function: %w", accessDenied(err))
		}
		fn := &function{name: name, arn: aws.ToString(out.FunctionArn), spec: s}
		if err := f.waitReady(ctx, fn); err != nil {
			return nil, err
		}
		return fn, nil
	}
	return nil, errors.New("creating a temporary function: three random names were taken; try again")
}

var errExists = errors.New("a function of that name exists")

// newEnvironments changes fn's nonce, so that the next invocations run in
// new execution environments, and waits until the change is in place.
func (f *fleet) newEnvironments(ctx context.Context, fn *function) error {
	err := f.backoff.do(ctx, f.stats, func(ctx context.Context) error {
		_, err := f.acct.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
			FunctionName: aws.String(fn.name),
			Environment:  &types.Environment{Variables: fn.spec.variables()},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("changing %s to force cold starts: %w", fn.name, accessDenied(err))
	}
	return f.waitReady(ctx, fn)
}

// waitReady polls fn until it is Active and its last update Successful.
func (f *fleet) waitReady(ctx context.Context, fn *function) error {
	ctx, cancel := context.WithTimeout(ctx, f.backoff.StateTimeout)
	defer cancel()
	for {
		var c *lambda.GetFunctionConfigurationOutput
		err := f.backoff.do(ctx, f.stats, func(ctx context.Context) error {
			var err error
			c, err = f.acct.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(fn.name)})
			return err
		})
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", fn.name, accessDenied(err))
		}
		switch {
		case c.State == types.StateFailed:
			return fmt.Errorf("function %s failed to be created: %s: %s", fn.name, c.StateReasonCode, aws.ToString(c.StateReason))
		case c.LastUpdateStatus == types.LastUpdateStatusFailed:
			return fmt.Errorf("function %s failed to be updated: %s: %s", fn.name, c.LastUpdateStatusReasonCode, aws.ToString(c.LastUpdateStatusReason))
		case c.State == types.StateActive && (c.LastUpdateStatus == types.LastUpdateStatusSuccessful || c.LastUpdateStatus == ""):
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s was not ready after %v (state %s, last update %s)", fn.name, f.backoff.StateTimeout, c.State, c.LastUpdateStatus)
			}
			return ctx.Err()
		case <-time.After(f.backoff.Poll):
		}
	}
}

// deleteAll deletes every function of the fleet, also when ctx has ended
// (an interrupted run still cleans up), and returns the names it could
// not delete with the first error.
func (f *fleet) deleteAll(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var left []string
	var errs []error
	for _, name := range f.Names() {
		if err := deleteFunction(ctx, f.acct, f.backoff, f.stats, name); err != nil {
			left = append(left, name)
			errs = append(errs, fmt.Errorf("deleting %s: %w", name, accessDenied(err)))
			continue
		}
		f.forget(name)
	}
	return left, errors.Join(errs...)
}

// deleteFunction deletes one function; one that does not exist (its
// creation never got through) is fine.
func deleteFunction(ctx context.Context, acct *Account, b Backoff, stats *retryStats, name string) error {
	err := b.do(ctx, stats, func(ctx context.Context) error {
		_, err := acct.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
		return err
	})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	return err
}
