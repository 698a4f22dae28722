// Package watch reports changes to a function project's sources, so that
// `fnopt verify --serve --watch` can rebuild it: every folder of the
// project is watched (new ones too) except build output, version control
// and hidden folders, and a burst of changes (an editor's save, a git
// checkout) is reported once, after it has settled.
package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Debounce is how long the project must be quiet after a change before
// it is reported.
const Debounce = 200 * time.Millisecond

// skipDirs are folders whose changes are never the sources': build
// output (fnopt's dist/, Cargo's target/), version control, dependencies
// vendored by other tools.
var skipDirs = map[string]bool{"dist": true, "target": true, ".git": true, "node_modules": true}

// Watcher watches one project. Changes delivers the files changed in
// each settled burst (paths relative to the project); Errors delivers
// what the watch could not follow. Close stops it and closes both.
type Watcher struct {
	Changes <-chan []string
	Errors  <-chan error

	fs   *fsnotify.Watcher
	dir  string
	done chan struct{}
	quit chan struct{}
}

// New starts watching dir; debounce 0 means Debounce.
func New(dir string, debounce time.Duration) (*Watcher, error) {
	if debounce <= 0 {
		debounce = Debounce
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	changes, errs := make(chan []string), make(chan error, 1)
	w := &Watcher{Changes: changes, Errors: errs, fs: fw, dir: dir, done: make(chan struct{}), quit: make(chan struct{})}
	if err := w.addTree(dir); err != nil {
		fw.Close()
		return nil, err
	}
	go w.loop(debounce, changes, errs)
	return w, nil
}

// Close stops watching.
func (w *Watcher) Close() error {
	close(w.quit)
	err := w.fs.Close()
	<-w.done
	return err
}

// addTree watches root and every folder below it that is not skipped.
func (w *Watcher) addTree(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != root && errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && skipped(d.Name()) {
			return filepath.SkipDir
		}
		if err := w.fs.Add(p); err != nil {
			return fmt.Errorf("watching %s: %w", p, err)
		}
		return nil
	})
}

func skipped(name string) bool { return skipDirs[name] || strings.HasPrefix(name, ".") }

// ignoredFile is an editor's temporary or backup file, whose writes are
// not edits of the sources.
func ignoredFile(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "#") || strings.HasSuffix(name, "~") ||
		strings.HasSuffix(name, ".swp") || strings.HasSuffix(name, ".swx") || name == "4913"
}

func (w *Watcher) loop(debounce time.Duration, changes chan<- []string, errs chan<- error) {
	defer close(w.done)
	defer close(changes)
	defer close(errs)
	// pending are the files changed in this burst; true for those the
	// burst created, which are dropped again if it also removes them (an
	// editor's or sed -i's temporary file renamed onto the real one).
	pending := map[string]bool{}
	timer := time.NewTimer(debounce)
	timer.Stop()
	for {
		select {
		case <-w.quit:
			timer.Stop()
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if !w.relevant(ev) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				// A new folder is watched too (a no-op for files).
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					if err := w.addTree(ev.Name); err != nil {
						w.report(errs, err)
					}
				}
			}
			rel, err := filepath.Rel(w.dir, ev.Name)
			if err != nil {
				rel = ev.Name
			}
			rel = filepath.ToSlash(rel)
			created, seen := pending[rel]
			switch {
			case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
				if created {
					delete(pending, rel)
				} else {
					pending[rel] = false
				}
			case !seen:
				pending[rel] = ev.Has(fsnotify.Create)
			}
			if len(pending) > 0 {
				timer.Reset(debounce)
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.report(errs, err)
		case <-timer.C:
			if len(pending) == 0 {
				continue
			}
			files := make([]string, 0, len(pending))
			for f := range pending {
				files = append(files, f)
			}
			sort.Strings(files)
			clear(pending)
			select {
			case changes <- files:
			case <-w.quit:
				return
			}
		}
	}
}

// relevant reports whether an event is a change of the sources: not a
// change of attributes only, and not in a skipped folder or of an
// editor's temporary file.
func (w *Watcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	rel, err := filepath.Rel(w.dir, ev.Name)
	if err != nil {
		return false
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for _, p := range parts[:len(parts)-1] {
		if skipped(p) {
			return false
		}
	}
	last := parts[len(parts)-1]
	return !ignoredFile(last) && !(skipDirs[last] && len(parts) == 1)
}

// report passes an error on without blocking the watch: one waiting
// error is enough to tell the user something is wrong.
func (w *Watcher) report(errs chan<- error, err error) {
	select {
	case errs <- err:
	default:
	}
}
