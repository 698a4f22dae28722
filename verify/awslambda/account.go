package awslambda

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AccountOptions say which AWS account and region to work in. Zero values
// leave the choice to the SDK's standard chain: the environment
// (AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, ...),
// the shared config and credentials files (profiles, SSO), and web
// identity (GitHub Actions OIDC through AWS_ROLE_ARN and
// AWS_WEB_IDENTITY_TOKEN_FILE).
type AccountOptions struct {
	Region  string
	Profile string
}

// Account is an AWS identity in one region, with the clients fnopt uses.
type Account struct {
	// ID is the 12-digit account, ARN the caller's identity.
	ID, ARN string
	Region  string

	lambda *lambda.Client
	ecr    *ecr.Client
}

// Connect loads the AWS configuration, checks that there are credentials
// and asks STS who they belong to, so that a missing or wrong set-up is
// said before anything is built or deployed.
func Connect(ctx context.Context, o AccountOptions) (*Account, error) {
	var loaders []func(*config.LoadOptions) error
	if o.Region != "" {
		loaders = append(loaders, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, ErrNoRegion
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &CredentialsError{Err: err}
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		if err := accessDenied(err); errors.As(err, new(*AccessDeniedError)) {
			return nil, err
		}
		return nil, fmt.Errorf("asking AWS STS who the credentials are: %w", err)
	}
	return &Account{
		ID:     aws.ToString(id.Account),
		ARN:    aws.ToString(id.Arn),
		Region: cfg.Region,
		// Retries are fnopt's own (retry.go): throttling and conflicts
		// while an update is in progress are expected here, and waiting
		// for them needs Lambda's Retry-After and longer patience than
		// the SDK's three attempts.
		lambda: lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} }),
		ecr:    ecr.NewFromConfig(cfg),
	}, nil
}
