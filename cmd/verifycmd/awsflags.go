package verifycmd

// The flags of --target aws: the library's errors worded with the flags
// a user can give, and --memory as a list of sizes.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/gate"
)

// flagNames puts the flag back in front of the library's option error.
func flagNames(err error) error {
	var oe *awslambda.OptionError
	if errors.As(err, &oe) {
		return fmt.Errorf("--%s %s: %s", oe.Option, oe.Value, oe.Reason)
	}
	return err
}

// awsError puts the flags a user can give in front of the library's
// errors.
func awsError(err error) error {
	var ce *awslambda.CredentialsError
	var ad *awslambda.AccessDeniedError
	switch {
	case errors.As(err, &ad):
		return ad // what was denied and what to do, whatever fnopt was doing
	case errors.As(err, &ce):
		return fmt.Errorf("%w; or pass --profile", err)
	case errors.Is(err, awslambda.ErrNoRegion):
		return fmt.Errorf("%w; or pass --region", err)
	case errors.Is(err, awslambda.ErrNoRole):
		return errors.New("no execution role for the temporary functions: pass --role ARN, or set aws.role in fnopt.yaml (docs/aws.md shows a minimal role)")
	case errors.As(err, new(*awslambda.TooLargeError)):
		return fmt.Errorf("%w with --ecr-repo", err)
	case errors.Is(err, awslambda.ErrNoRepository):
		return fmt.Errorf("%w: pass --ecr-repo ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME", err)
	case errors.Is(err, gate.ErrOneConfiguration):
		return errors.New("the gate compares one configuration on Lambda: give --memory and --arch one value each")
	}
	return err
}

// memoryList is --memory as a list of sizes: locally one size (the flag
// it wraps keeps Options.MemoryMB), on Lambda one function per size.
type memoryList struct {
	pflag.Value
	sizes []int
}

func (m *memoryList) Set(s string) error {
	m.sizes = nil
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("%q is not a size in MB", part)
		}
		m.sizes = append(m.sizes, n)
	}
	return m.Value.Set(strconv.Itoa(m.sizes[0]))
}
