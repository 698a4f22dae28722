package verifycmd

import (
	"errors"
	"fmt"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/gate"
)

// The libraries' errors name no flags; these put the flag a user typed
// back into the message, worded as fnopt verify always has.

// prepareError is a TARGET that cannot be prepared: an image for another
// architecture gets the hint of `fnopt build --arch`.
func prepareError(err error) error {
	var ae *verify.ImageArchError
	var pe *image.PlatformError
	switch {
	case errors.As(err, &ae):
		return fmt.Errorf("%w; build one with --arch %s", err, ae.Host)
	case errors.As(err, &pe):
		// verify runs the image on this machine, so only its platform
		// will do.
		return fmt.Errorf("%w: verify runs images of this machine's architecture; build one with --arch %s", err, settings.HostArch())
	}
	return cmdutil.ProgramFlagError(cmdutil.InsecureFlagError(err))
}

// againstError is a --against REV that cannot be checked out.
func againstError(err error) error {
	var nr *gate.NotInRepositoryError
	var ma *gate.MissingAtRevisionError
	switch {
	case errors.Is(err, gate.ErrNoGit):
		return errors.New("--against needs git, which is not installed")
	case errors.As(err, &nr):
		return fmt.Errorf("--against needs a git repository: %s is not inside one", nr.Dir)
	case errors.As(err, &ma):
		return fmt.Errorf("%w; --against needs a revision that has the function", err)
	}
	return err
}

// baselineError is a --baseline FILE that is not a baseline of this fnopt.
func baselineError(err error) error {
	var se *gate.SchemaError
	if errors.As(err, &se) && !se.OtherVersion() {
		return fmt.Errorf("%w: save it with `fnopt verify --save-baseline`", err)
	}
	return err
}
