package dist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// entry is one artifact of the set install moves.
type entry struct {
	name string
	dir  bool // a folder (the image layout), not a file
}

// install moves the staged artifacts set from stage into dst as one set:
// afterwards either every one of them is the new one or every one is what
// was there before (the same file, or nothing).
//
// Renaming them one by one could fail half-way (a new bootstrap next to
// an old zip), so it goes in two passes: the previous artifacts are first
// renamed aside into stage/old, then the new ones into dst; on any failure
// the renames done are undone in reverse. rename(2) inside one file system
// is atomic and needs no space, so undoing works wherever doing did; should
// it fail all the same, the error is a *partialInstallError and the
// previous artifacts are in stage/old, which the caller then keeps.
// rename is os.Rename; tests pass one that fails on purpose.
func install(stage, dst string, set []entry, rename func(oldpath, newpath string) error) error {
	old := filepath.Join(stage, "old")
	if err := os.Mkdir(old, 0o755); err != nil {
		return fmt.Errorf("installing into %s: %w", dst, err)
	}
	var aside, in []string // names renamed so far, in order
	undo := func(cause error) error {
		var errs []error
		for i := len(in) - 1; i >= 0; i-- {
			// The new one goes back into the staging folder, removed with it.
			if err := rename(filepath.Join(dst, in[i]), filepath.Join(stage, in[i])); err != nil {
				errs = append(errs, err)
			}
		}
		for i := len(aside) - 1; i >= 0; i-- {
			if err := rename(filepath.Join(old, aside[i]), filepath.Join(dst, aside[i])); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return &partialInstallError{cause: cause, undo: errors.Join(errs...), old: old}
		}
		return cause
	}

	for _, e := range set {
		p := filepath.Join(dst, e.name)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return undo(fmt.Errorf("replacing %s: %w", p, err))
		case fi.IsDir() && !e.dir:
			// Someone's folder, not a previous build's file: refuse
			// rather than delete it with the staging folder.
			return undo(fmt.Errorf("replacing %s: it is a folder, not a file fnopt wrote: move it away", p))
		case !fi.IsDir() && e.dir:
			return undo(fmt.Errorf("replacing %s: it is a file, not a folder fnopt wrote: move it away", p))
		}
		if err := rename(p, filepath.Join(old, e.name)); err != nil {
			return undo(fmt.Errorf("replacing %s: %w", p, err))
		}
		aside = append(aside, e.name)
	}
	for _, e := range set {
		p := filepath.Join(dst, e.name)
		if err := rename(filepath.Join(stage, e.name), p); err != nil {
			return undo(fmt.Errorf("installing %s: %w", p, err))
		}
		in = append(in, e.name)
	}
	return nil
}

// partialInstallError is a failed install that could not be undone: dst
// holds a mix, and the previous artifacts are in old.
type partialInstallError struct {
	cause error
	undo  error
	old   string
}

func (e *partialInstallError) Error() string {
	// One line: commands print the first line of an error only.
	undo := strings.ReplaceAll(e.undo.Error(), "\n", "; ")
	return fmt.Sprintf("%v; putting the previous artifacts back failed too (%s): they are in %s", e.cause, undo, e.old)
}

func (e *partialInstallError) Unwrap() error { return e.cause }
