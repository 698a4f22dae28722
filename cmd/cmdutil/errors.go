// Package cmdutil holds what every fnopt command shares: the IO streams it
// prints to and the mapping from errors to exit statuses.
package cmdutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/internal/version"
)

// Exit statuses. They are part of fnopt's contract with scripts and CI.
const (
	ExitOK    = 0 // success
	ExitFail  = 1 // the tool ran, and the result is a failure (regression, function error)
	ExitUsage = 2 // bad input or the tool could not do its job
)

// ExitError carries the exit status an error should end the process with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// UsageError marks err as bad input or a job that could not be done (exit 2).
func UsageError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitUsage, Err: err}
}

// FailError marks err as a failed result, such as a regression (exit 1).
func FailError(err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: ExitFail, Err: err}
}

// SilentExit ends the process with code and prints nothing more; the
// command has already written its report.
func SilentExit(code int) error { return &ExitError{Code: code, Err: errSilent} }

var errSilent = errors.New("")

// Detailer is an error that carries several lines the user needs, such
// as a compiler's output (build.CompileError).
type Detailer interface {
	error
	// Details are the lines; "" when there are none, or they were shown.
	Details() string
}

// Report prints err as one line on w and returns the exit status for it,
// after its details when it carries some (Detailer). Errors that carry no
// status are treated as "could not do the job" (2).
func Report(w io.Writer, err error) int {
	e, ok := describe(err)
	if !ok {
		return e.ExitStatus
	}
	// What the user needs to act on beyond one line (a compiler's output)
	// travels in the error, whichever library made it and whichever
	// command returned it, and is printed here, above the line that
	// points at it.
	if e.Details != "" {
		fmt.Fprintln(w, e.Details)
	}
	fmt.Fprintf(w, "fnopt: %s\n", e.Message)
	return e.ExitStatus
}

// ErrorSchema names the document `--json` prints on standard output when
// a command fails before it could print its own.
const ErrorSchema = "fnopt.error/v1"

// ErrorDocument is the fnopt.error/v1 document (error.v1.schema.json).
type ErrorDocument struct {
	Schema       string      `json:"schema"`
	FnoptVersion string      `json:"fnopt_version"`
	Error        ErrorReport `json:"error"`
}

// ErrorReport is the error: the line Report prints (without "fnopt: "),
// the lines above it, and the exit status with its kind.
type ErrorReport struct {
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
	// Kind names the exit status's meaning: "failure" (1: the tool ran
	// and the result is a failure), "error" (2: bad input, or the job
	// could not be done), "interrupted" (130, 143: a signal).
	Kind       string `json:"kind"`
	ExitStatus int    `json:"exit_status"`
}

// WriteErrorJSON writes err as the fnopt.error/v1 document on w, for a
// run that ends with exit status code (which may differ from the error's
// own, as for an interrupted run). It writes nothing for nil or for an
// error whose command has printed its report (SilentExit).
func WriteErrorJSON(w io.Writer, err error, code int) error {
	e, ok := describe(err)
	if !ok {
		return nil
	}
	e.ExitStatus = code
	switch {
	case code == ExitFail:
		e.Kind = "failure"
	case code > 128:
		e.Kind = "interrupted"
	default:
		e.Kind = "error"
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ErrorDocument{Schema: ErrorSchema, FnoptVersion: version.Get().Version, Error: e})
}

// WantsJSON reports whether a command's flags ask for a JSON document:
// --json, or --format json (the gate's).
func WantsJSON(f *pflag.FlagSet) bool {
	if fl := f.Lookup("json"); fl != nil && fl.Value.String() == "true" {
		return true
	}
	fl := f.Lookup("format")
	return fl != nil && fl.Value.String() == "json"
}

// describe is what Report and WriteErrorJSON say of err: its one line,
// its details and exit status; false when there is nothing to print (no
// error, or one whose command already printed its report).
func describe(err error) (ErrorReport, bool) {
	if err == nil {
		return ErrorReport{ExitStatus: ExitOK}, false
	}
	code := ExitUsage
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		if errors.Is(ee.Err, errSilent) {
			return ErrorReport{ExitStatus: code}, false
		}
	}
	var details string
	var d Detailer
	if errors.As(err, &d) {
		details = strings.TrimRight(d.Details(), "\n")
	}
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return ErrorReport{Message: msg, Details: details, ExitStatus: code}, true
}
