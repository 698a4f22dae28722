// Package cmdutil holds what every fnopt command shares: the IO streams it
// prints to and the mapping from errors to exit statuses.
package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"strings"
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
	if err == nil {
		return ExitOK
	}
	code := ExitUsage
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
		if errors.Is(ee.Err, errSilent) {
			return code
		}
	}
	// What the user needs to act on beyond one line (a compiler's output)
	// travels in the error, whichever library made it and whichever
	// command returned it, and is printed here, above the line that
	// points at it.
	var d Detailer
	if errors.As(err, &d) {
		if details := strings.TrimRight(d.Details(), "\n"); details != "" {
			fmt.Fprintln(w, details)
		}
	}
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	fmt.Fprintf(w, "fnopt: %s\n", msg)
	return code
}
