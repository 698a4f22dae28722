package cmdutil

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// MainFlag adds --main, the one flag that names a project's function when
// its repository holds several: a Go main package or a Cargo binary
// target, overriding fnopt.yaml's build.main or build.bin.
func MainFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "main", "", "the function to build in a project of several: a Go main package `PKG` (./cmd/orders, relative to the project) or a Cargo binary target (orders); overrides fnopt.yaml's build.main or build.bin")
}

// ProgramFlagError adds the --main hint to a build's *build.ProgramError,
// which names only fnopt.yaml's key.
func ProgramFlagError(err error) error {
	var pe *build.ProgramError
	if errors.As(err, &pe) && len(pe.Choices) > 0 {
		return fmt.Errorf("%w (or pass --main %s)", err, pe.Choices[0])
	}
	return err
}

// FlagError rewrites pflag's parse errors in the user's words: which flag,
// the value given and what it takes, instead of the Go parser's message
// ("strconv.ParseInt: parsing ...").
func FlagError(err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return err
	}
	f := ive.GetFlag()
	name := "--" + f.Name
	var ce *settings.ChoiceError
	if errors.As(err, &ce) {
		return ChoiceFlagError(f.Name, err)
	}
	if what, ok := takes[f.Value.Type()]; ok {
		return fmt.Errorf("%s %q: %s", name, ive.GetValue(), what)
	}
	// A value type of our own (such as an architecture) already says what
	// it takes.
	return fmt.Errorf("%s %q: %v", name, ive.GetValue(), errors.Unwrap(ive))
}

// ChoiceFlagError words a parser's *settings.ChoiceError for --flag as
// every command does ("invalid --arch "x": use one of arm64, x86_64").
func ChoiceFlagError(flag string, err error) error {
	var ce *settings.ChoiceError
	if errors.As(err, &ce) {
		return fmt.Errorf("invalid --%s %q: use one of %s", flag, ce.Value, strings.Join(ce.Choices, ", "))
	}
	return fmt.Errorf("--%s: %w", flag, err)
}

// takes says what a flag of pflag's own value types accepts, by type name;
// their parse errors come from strconv and time and speak Go.
var takes = map[string]string{
	"int": "give a whole number, such as 30", "int64": "give a whole number, such as 30",
	"uint":    "give a whole number of 0 or more, such as 30",
	"float64": "give a number, such as 10 or 2.5", "float32": "give a number, such as 10 or 2.5",
	"duration": "give a duration, such as 500ms, 30s or 2m",
	"bool":     "give true or false",
}
