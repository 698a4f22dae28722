package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fnopt/fnopt/internal/atomicfile"
)

// Writer replaces a set of files together, in two steps: Stage writes each
// new content to a temporary file beside its target, Commit renames it over
// the target (atomic on one filesystem). Apply stages every file before it
// commits any. Tests inject failures through this interface.
type Writer interface {
	Stage(path string, data []byte, perm fs.FileMode) (tmp string, err error)
	Commit(tmp, path string) error
	Discard(tmp string) error
	// Restore puts a committed file's original content back.
	Restore(path string, data []byte, perm fs.FileMode) error
}

// OSWriter is the Writer for the real filesystem.
type OSWriter struct{}

var _ Writer = OSWriter{}

// Stage writes data to a synced temporary file next to path.
func (OSWriter) Stage(path string, data []byte, perm fs.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return tmp, nil
}

// Commit renames the staged file over path.
func (OSWriter) Commit(tmp, path string) error { return os.Rename(tmp, path) }

// Discard removes a staged file.
func (OSWriter) Discard(tmp string) error { return os.Remove(tmp) }

// Restore writes the original content back, atomically.
func (OSWriter) Restore(path string, data []byte, perm fs.FileMode) error {
	return atomicfile.WriteFile(path, data, perm)
}

// Refusal returns why the plan cannot be applied at all (a *LinkError or
// a *FileTypeError), nil when it can. A plan that could not read one of
// the project's build files is not a plan over every file it should
// touch: applying it to the others would leave the project half changed.
func (p *Plan) Refusal() error {
	if len(p.refusals) == 0 {
		return nil
	}
	return p.refusals[0]
}

// Apply makes the plan's changes and returns the files it changed. It
// refuses a plan whose Refusal is not nil, first checks every file (still
// as read, a regular file, writable), then stages all new
// contents, then renames them into place. If anything fails, the files
// already replaced get their original content back and the staged files
// are removed: the project is left as it was.
func Apply(p *Plan, w Writer) ([]string, error) {
	if err := p.Refusal(); err != nil {
		return nil, err
	}
	changes, err := p.Changes()
	if err != nil {
		return nil, err
	}
	type target struct {
		path string
		perm fs.FileMode
		c    FileChange
		tmp  string
	}
	var ts []*target
	for _, c := range changes {
		path := filepath.Join(p.Dir, c.File)
		fi, err := os.Lstat(path)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", c.File, err)
		}
		if !fi.Mode().IsRegular() {
			// Replaced by a link (or anything else) since it was read.
			return nil, fmt.Errorf("%s changed since it was read: run fnopt optimize again", c.File)
		}
		if fi.Mode().Perm()&0o200 == 0 {
			return nil, fmt.Errorf("%s is read-only: make it writable (chmod u+w %s) to apply the plan", c.File, c.File)
		}
		cur, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", c.File, err)
		}
		if !bytes.Equal(cur, c.Old) {
			return nil, fmt.Errorf("%s changed since it was read: run fnopt optimize again", c.File)
		}
		ts = append(ts, &target{path: path, perm: fi.Mode().Perm(), c: c})
	}
	discard := func(from int) {
		for _, t := range ts[from:] {
			if t.tmp != "" {
				w.Discard(t.tmp)
				t.tmp = ""
			}
		}
	}
	for _, t := range ts {
		tmp, err := w.Stage(t.path, t.c.New, t.perm)
		if err != nil {
			discard(0)
			return nil, fmt.Errorf("applying the plan: %w; no file was changed", err)
		}
		t.tmp = tmp
	}
	for i, t := range ts {
		if err := w.Commit(t.tmp, t.path); err != nil {
			discard(i)
			var rerr error
			for _, done := range ts[:i] {
				if e := w.Restore(done.path, done.c.Old, done.perm); e != nil {
					rerr = errors.Join(rerr, fmt.Errorf("restoring %s: %w", done.c.File, e))
				}
			}
			if rerr != nil {
				return nil, fmt.Errorf("applying the plan: replacing %s: %v; and %v", t.c.File, err, rerr)
			}
			return nil, fmt.Errorf("applying the plan: replacing %s: %v; every file was put back as it was", t.c.File, err)
		}
		t.tmp = ""
	}
	var files []string
	for _, t := range ts {
		files = append(files, t.c.File)
	}
	return files, nil
}
