package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/internal/function/build"
)

func TestFlagError(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--samples", "abc"}, `--samples "abc": give a whole number, such as 30`},
		{[]string{"--max-regression", "ten"}, `--max-regression "ten": give a number, such as 10 or 2.5`},
		{[]string{"--timeout", "5"}, `--timeout "5": give a duration, such as 500ms, 30s or 2m`},
		{[]string{"--json=maybe"}, `--json "maybe": give true or false`},
		{[]string{"--nope"}, `unknown flag: --nope`}, // not a value error: kept as it is
	}
	for _, tt := range tests {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("samples", 30, "")
		fs.Float64("max-regression", 10, "")
		fs.Duration("timeout", 0, "")
		fs.Bool("json", false, "")
		err := fs.Parse(tt.args)
		if err == nil {
			t.Fatalf("%v: no error", tt.args)
		}
		if got := FlagError(err).Error(); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.args, got, tt.want)
		}
	}
	if FlagError(errors.New("other")).Error() != "other" {
		t.Error("an unrelated error was changed")
	}
}

// The library names fnopt.yaml's key; the command adds its flag, with a
// program the project really has.
func TestProgramFlagError(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"ambiguous Go", fmt.Errorf("building: %w", &build.ProgramError{Dir: "shop", Key: "build.main", Choices: []string{"./cmd/a", "./cmd/b"}}),
			"building: shop: several main packages (./cmd/a, ./cmd/b): name the function's one in fnopt.yaml, as build.main: ./cmd/a (or pass --main ./cmd/a)"},
		{"unknown Rust bin", &build.ProgramError{Dir: "shop", Key: "build.bin", Named: "z", Choices: []string{"x", "y"}},
			`shop: build.bin "z" is not one of the project's binary targets (x, y): fix build.bin in fnopt.yaml (or pass --main x)`},
		{"other errors untouched", errors.New("boom"), "boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ProgramFlagError(c.err).Error(); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
