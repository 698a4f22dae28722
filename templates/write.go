package templates

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fnopt/fnopt/internal/atomicfile"
)

// ErrNotEmpty is returned by Write for a target that holds files.
var ErrNotEmpty = errors.New("exists and is not empty")

// CheckTarget reports whether dir can receive a new project: it must not
// exist, or be an empty folder, and its parent must be an existing folder.
func CheckTarget(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		parent := filepath.Dir(filepath.Clean(dir))
		pi, err := os.Stat(parent)
		if err != nil || !pi.IsDir() {
			return fmt.Errorf("cannot create %s: the folder %s does not exist; create it first", dir, parent)
		}
		return nil
	case err != nil:
		return fmt.Errorf("cannot create %s: %v", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%s exists and is a file: choose another PATH", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", dir, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s %w: fnopt new never overwrites files; choose another PATH", dir, ErrNotEmpty)
	}
	return nil
}

// Write puts files into dir so that dir ends up either complete or as it
// was: the files are written into a temporary folder next to dir, which
// is then renamed into place (or, when dir is an existing empty folder,
// whose entries are moved into it, undone on failure). Cancelling ctx (an
// interrupt) stops the write and removes everything written.
func Write(ctx context.Context, dir string, files []File) (err error) {
	// Lexically clean, so the temporary sibling and the target agree on
	// the parent folder ("a/../b" is "b").
	dir = filepath.Clean(dir)
	if err := CheckTarget(dir); err != nil {
		return err
	}
	tmp, err := atomicfile.TempSibling(dir)
	if err != nil {
		return fmt.Errorf("cannot write in %s: %v", filepath.Dir(filepath.Clean(dir)), unwrapPath(err))
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = fmt.Errorf("removing the temporary folder %s: %w", tmp, rerr)
		}
	}()
	// The project is built in tmp/project: unlike tmp (created 0700 by
	// MkdirTemp), it gets the usual mode the user's umask gives folders.
	project := filepath.Join(tmp, "project")
	if err := os.Mkdir(project, 0o777); err != nil {
		return fmt.Errorf("cannot write in %s: %v", filepath.Dir(filepath.Clean(dir)), unwrapPath(err))
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %s was not created", dir)
		}
		p := filepath.Join(project, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return fmt.Errorf("writing %s: %v", f.Path, unwrapPath(err))
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return fmt.Errorf("writing %s: %v", f.Path, unwrapPath(err))
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %s was not created", dir)
	}
	if _, serr := os.Stat(dir); serr == nil {
		return moveInto(project, dir)
	}
	if err := os.Rename(project, dir); err != nil {
		return fmt.Errorf("creating %s: %v", dir, unwrapPath(err))
	}
	return nil
}

// moveInto moves the entries of src into the empty folder dst, and moves
// them back when one fails, so dst is left empty as it was. Renaming
// entries instead of replacing dst keeps dst's inode: it may be the
// user's working directory (`fnopt new .`).
func moveInto(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	var moved []string
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		err := moveEntry(from, to)
		if err == nil {
			moved = append(moved, e.Name())
			continue
		}
		for _, name := range moved {
			os.Rename(filepath.Join(dst, name), filepath.Join(src, name))
		}
		return fmt.Errorf("creating %s: %v", dst, err)
	}
	return nil
}

// moveEntry renames from to to, refusing when to exists: os.Rename would
// silently replace a file that appeared in the folder while new wrote.
func moveEntry(from, to string) error {
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("%s appeared while writing; move it away and run again", to)
	}
	return unwrapPath(os.Rename(from, to))
}

// unwrapPath drops the operation and paths of a *fs.PathError or
// *os.LinkError: the caller's message already says which file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
