package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/environ"
)

// ReadEventFile reads the event an invocation sends from path and checks
// that it is one JSON document, as Lambda's Invoke API requires: a file
// that is not would only fail later, inside the function, with an error
// that names neither the file nor the cause.
func ReadEventFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the event: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("the event %s is %w: give a file holding one JSON document", path, ErrEventNotJSON)
	}
	return b, nil
}

// ErrEventNotJSON is a file ReadEventFile read that does not hold one JSON
// document; its other errors wrap the *fs.PathError of reading.
var ErrEventNotJSON = errors.New("not valid JSON")

// ProjectEventFile is where a project keeps the event its own tests send:
// `fnopt new` writes one for every event source, in the source's shape.
const ProjectEventFile = "testdata/event.json"

// DefaultEventFile is the event file target sends when none is given: a
// project's ProjectEventFile, or "" for other targets (bootstraps, zips,
// images) and for projects without one, which are sent DefaultEvent.
func DefaultEventFile(target string) string {
	if !isFolder(target) {
		return ""
	}
	p := filepath.Join(target, filepath.FromSlash(ProjectEventFile))
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	return p
}

// FunctionEnv is the environment target's function is given besides
// Lambda's (Function.Env): for a project, its template.yaml's Environment
// and fnopt.yaml's env first, then s's env files and pairs; for other
// targets s's alone.
func FunctionEnv(target string, s environ.Sources) (*environ.Resolved, error) {
	s.Dir, s.Name, s.Config = "", "", nil
	if isFolder(target) {
		cfg, err := config.Load(target)
		switch {
		case errors.Is(err, config.ErrNotProject):
			// A folder that is no project has no environment of its own
			// (verify --serve --external starts nothing from it).
		case err != nil:
			return nil, err
		default:
			s.Dir, s.Name, s.Config = target, cfg.Name, cfg.Env
		}
	}
	return environ.Resolve(s)
}

// ErrNotProjectTarget is ProjectEventSource's error for a target that is
// not a project folder (a bootstrap, zip or image says nothing of its
// event source).
var ErrNotProjectTarget = errors.New("not a project folder")

// ProjectEventSource is the event source a project's function is written
// for: fnopt.yaml's event (raw, http, url, sqs, s3, eventbridge), "" when
// fnopt.yaml names none.
func ProjectEventSource(target string) (string, error) {
	if !isFolder(target) {
		return "", fmt.Errorf("%s is %w", target, ErrNotProjectTarget)
	}
	cfg, err := config.Load(target)
	if err != nil {
		return "", err
	}
	return cfg.Event, nil
}

// isFolder reports whether target names a folder, which Prepare takes for
// a project, rather than an image, a file or nothing.
func isFolder(target string) bool {
	if IsImageRef(target) {
		return false
	}
	st, err := os.Stat(target)
	return err == nil && st.IsDir()
}
