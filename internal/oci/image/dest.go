package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DestError is an image destination that is not free to be written.
// Commands put the name of their flag in front of it.
type DestError struct {
	Ref Ref
	// Err is fs.ErrExist when something is at Ref's path already,
	// otherwise the error met while looking.
	Err error
}

func (e *DestError) Error() string {
	if errors.Is(e.Err, fs.ErrExist) {
		return fmt.Sprintf("%s: %s exists: remove it or choose another destination", e.Ref, e.Ref.Path)
	}
	return fmt.Sprintf("%s: %v", e.Ref, e.Err)
}

func (e *DestError) Unwrap() error { return e.Err }

// CheckAbsent fails with a *DestError when writing ref would have to
// replace something (an oci: folder that is not empty, or any file or
// folder at a tar: path) or cannot be written at all (the folder it goes
// in does not exist). Callers check before the work that makes the image,
// so a bad destination costs nothing; Write checks again when it writes.
// A registry reference is always accepted: pushing a tag is how
// registries are updated.
func CheckAbsent(ref Ref) error {
	if ref.Kind != OCI && ref.Kind != Tarball {
		return nil
	}
	fi, err := os.Stat(ref.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkParent(ref)
	case err != nil:
		return &DestError{Ref: ref, Err: err}
	}
	if fi.IsDir() && ref.Kind == OCI {
		// Write accepts an empty folder (rename(2) replaces it).
		if ents, err := os.ReadDir(ref.Path); err == nil && len(ents) == 0 {
			return nil
		}
	}
	return &DestError{Ref: ref, Err: fs.ErrExist}
}

// checkParent fails with a *DestError when the folder ref's path goes in
// is missing or is not a folder: Write would fail there, after the work.
func checkParent(ref Ref) error {
	dir := filepath.Dir(ref.Path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &DestError{Ref: ref, Err: fmt.Errorf("folder %s does not exist: create it or choose another destination", dir)}
	case err != nil:
		return &DestError{Ref: ref, Err: err}
	case !fi.IsDir():
		return &DestError{Ref: ref, Err: fmt.Errorf("%s is not a folder: choose another destination", dir)}
	}
	return nil
}
