package awslambda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// LeftoverAge is how old a temporary function must be before Cleanup
// deletes it: a run still going changes its functions every round and
// creates none older, so an hour-old one belongs to a run that was killed.
const LeftoverAge = time.Hour

// lastModifiedLayout is how Lambda writes a function's LastModified.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

// CleanupResult says what Cleanup found.
type CleanupResult struct {
	// Account and Region are where it looked.
	Account, Region string
	// Deleted are the leftover functions deleted; Young those of
	// fnopt's that are newer than LeftoverAge (a run may be using them).
	Deleted, Young []string
}

// Cleanup deletes fnopt's temporary functions that a killed run left
// behind: those named NamePrefix…, tagged TagTemporary, created (TagCreated)
// and last changed more than LeftoverAge before now. Nothing else is
// touched, whatever its name.
func Cleanup(ctx context.Context, ao AccountOptions, b Backoff, now time.Time) (*CleanupResult, error) {
	acct, err := Connect(ctx, ao)
	if err != nil {
		return nil, err
	}
	b = b.withDefaults()
	stats := &retryStats{}
	res := &CleanupResult{Account: acct.ID, Region: acct.Region}
	cutoff := now.Add(-LeftoverAge)
	pages := lambda.NewListFunctionsPaginator(acct.lambda, &lambda.ListFunctionsInput{})
	var errs []error
	for pages.HasMorePages() {
		var page *lambda.ListFunctionsOutput
		err := b.do(ctx, stats, func(ctx context.Context) error {
			var err error
			page, err = pages.NextPage(ctx)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("listing functions: %w", accessDenied(err))
		}
		for _, fn := range page.Functions {
			name := aws.ToString(fn.FunctionName)
			if !strings.HasPrefix(name, NamePrefix) {
				continue
			}
			var tags *lambda.ListTagsOutput
			err := b.do(ctx, stats, func(ctx context.Context) error {
				var err error
				tags, err = acct.lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: fn.FunctionArn})
				return err
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("reading the tags of %s: %w", name, accessDenied(err)))
				continue
			}
			if tags.Tags[TagTemporary] != "true" {
				continue // not fnopt's, whatever its name says
			}
			created, err := time.Parse(time.RFC3339, tags.Tags[TagCreated])
			if err != nil {
				continue // not as fnopt tags them: leave it
			}
			modified, err := time.Parse(lastModifiedLayout, aws.ToString(fn.LastModified))
			if err != nil {
				modified = created
			}
			if created.After(cutoff) || modified.After(cutoff) {
				res.Young = append(res.Young, name)
				continue
			}
			if err := deleteFunction(ctx, acct, b, stats, name); err != nil {
				errs = append(errs, fmt.Errorf("deleting %s: %w", name, accessDenied(err)))
				continue
			}
			res.Deleted = append(res.Deleted, name)
		}
	}
	return res, errors.Join(errs...)
}
