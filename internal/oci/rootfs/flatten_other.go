//go:build !linux

package rootfs

import (
	"context"
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Flatten extracts an image to disk only on Linux: there openat2's
// RESOLVE_IN_ROOT confines every path to dir as the container would see
// it, and no other system offers that guarantee. Elsewhere it refuses in
// one line; Walk and Tree, which never touch the disk, work everywhere.
func Flatten(_ context.Context, _ v1.Image, _ string, _ Limits) (*Report, error) {
	return nil, errors.New("extracting an image to disk safely needs Linux (openat2): run fnopt on Linux for images")
}
