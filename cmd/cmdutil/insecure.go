package cmdutil

import (
	"errors"
	"fmt"

	"github.com/fnopt/fnopt/internal/oci/image"
)

// InsecureFlagError words the image library's errors about plain HTTP in
// terms of --insecure, the flag InsecureFlag registers for every command
// that talks to registries. The library's own words name no flag; other
// errors are returned as they are.
func InsecureFlagError(err error) error {
	var host *image.InsecureHostError
	var plain *image.PlainHTTPError
	switch {
	case errors.As(err, &host):
		return fmt.Errorf("--insecure: %w", err)
	case errors.As(err, &plain) && plain.Loopback:
		return fmt.Errorf("%w; pass --insecure to allow it", err)
	}
	return err
}
