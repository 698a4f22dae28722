package cmdutil

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// detailed is an error with lines to show, as a compiler's error is.
type detailed struct{ details string }

func (d *detailed) Error() string {
	return "go build failed (exit status 1): fix the errors in the compiler output above"
}
func (d *detailed) Details() string { return d.details }

// TestReport: one line for every error, with its exit status; the lines an
// error carries (a compiler's output) above it, however deeply wrapped.
func TestReport(t *testing.T) {
	compile := &detailed{"./main.go:3:15: undefined: notDefined\n"}
	tests := []struct {
		name string
		err  error
		code int
		want string
	}{
		{"nil", nil, ExitOK, ""},
		{"plain", errors.New("bad"), ExitUsage, "fnopt: bad\n"},
		{"failure", FailError(errors.New("regressed")), ExitFail, "fnopt: regressed\n"},
		{"silent", SilentExit(ExitFail), ExitFail, ""},
		{"several lines", errors.New("first\nsecond"), ExitUsage, "fnopt: first\n"},
		{"details", UsageError(fmt.Errorf("building x for arm64: %w", compile)), ExitUsage,
			"./main.go:3:15: undefined: notDefined\nfnopt: building x for arm64: go build failed (exit status 1): fix the errors in the compiler output above\n"},
		{"details shown already", &detailed{}, ExitUsage, "fnopt: go build failed (exit status 1): fix the errors in the compiler output above\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if code := Report(&b, tt.err); code != tt.code || b.String() != tt.want {
				t.Errorf("Report = %d, %q; want %d, %q", code, b.String(), tt.code, tt.want)
			}
		})
	}
}
