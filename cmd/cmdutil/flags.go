package cmdutil

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/verify"
)

// The flags several commands share are registered and read here, so that
// each is spelled, defaulted, checked and worded alike everywhere. The
// libraries' errors name no flags; these put the flag back in front.

// Default numbers of cold samples, by what they are for.
const (
	SamplesVerify = 30 // fnopt verify: enough for a p90 and a median's interval
	SamplesProof  = 10 // fnopt optimize --verify: a before/after ratio
	SamplesImage  = 3  // fnopt optimize image: a functional proof, not a timing
)

// SamplesFlag registers --samples N with the default def.
func SamplesFlag(f *pflag.FlagSet, p *int, def int, usage string) {
	f.IntVar(p, "samples", def, usage)
}

// SamplesAuto is the --samples value that lets the command decide how many
// samples to take: the gate's adaptive sampling.
const SamplesAuto = "auto"

// SamplesOrAutoFlag registers --samples N|auto with the default count
// def, for a command that can also decide the count itself: n receives a
// count, and auto is set by "auto" and cleared by a count. Commands that
// take only a count use SamplesFlag.
func SamplesOrAutoFlag(f *pflag.FlagSet, n *int, auto *bool, def int, usage string) {
	*n, *auto = def, false
	f.Var(&samplesValue{n: n, auto: auto}, "samples", usage)
}

// samplesValue is the pflag.Value of SamplesOrAutoFlag.
type samplesValue struct {
	n    *int
	auto *bool
}

func (v *samplesValue) Set(s string) error {
	if s == SamplesAuto {
		*v.auto = true
		return nil
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("give a whole number, such as 30, or auto")
	}
	*v.n, *v.auto = i, false
	return nil
}

func (v *samplesValue) String() string {
	if *v.auto {
		return SamplesAuto
	}
	return strconv.Itoa(*v.n)
}

func (v *samplesValue) Type() string { return "samples" }

// CheckSamples refuses a --samples below 1.
func CheckSamples(n int) error {
	if n < 1 {
		return fmt.Errorf("--samples %d: measure at least 1", n)
	}
	return nil
}

// EventFlag registers --event FILE, the payload sent to the function.
func EventFlag(f *pflag.FlagSet, p *string, usage string) {
	f.StringVar(p, "event", "", usage)
	// The shell completes JSON files, wherever the flag is defined.
	if err := cobra.MarkFlagFilename(f, "event", "json"); err != nil {
		panic(fmt.Sprintf("completing --event: %v", err))
	}
}

// ReadEvent reads --event FILE with verify.ReadEventFile (the one reader,
// always validated); nil for no file.
func ReadEvent(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	ev, err := verify.ReadEventFile(path)
	var pe *fs.PathError
	switch {
	case err == nil:
		return ev, nil
	case errors.Is(err, verify.ErrEventNotJSON):
		return nil, fmt.Errorf("--event %s is not valid JSON", path)
	case errors.As(err, &pe):
		return nil, fmt.Errorf("reading --event: %w", pe)
	}
	return nil, fmt.Errorf("--event: %w", err)
}

// ReadEventFor reads --event FILE as ReadEvent does or, when no file is
// given, target's own event (verify.DefaultEventFile: a project's
// testdata/event.json). It returns the event (nil for the library's
// default) and the file it came from ("" for none).
func ReadEventFor(path, target string) ([]byte, string, error) {
	if path != "" {
		ev, err := ReadEvent(path)
		return ev, path, err
	}
	def := verify.DefaultEventFile(target)
	if def == "" {
		return nil, "", nil
	}
	ev, err := verify.ReadEventFile(def)
	if err != nil {
		return nil, "", fmt.Errorf("%w; or name another with --event FILE", err)
	}
	return ev, def, nil
}

// ExpectFlag registers --expect, a JSON document or /REGEX/ every
// response must match.
func ExpectFlag(f *pflag.FlagSet, p *string, usage string) {
	f.StringVar(p, "expect", "", usage)
}

// ParseExpect parses --expect with verify.ParseExpect; nil for none.
func ParseExpect(text string) (*verify.Expect, error) {
	if text == "" {
		return nil, nil
	}
	e, err := verify.ParseExpect(text)
	if err == nil {
		return e, nil
	}
	var ee *verify.ExpectError
	switch {
	case !errors.As(err, &ee):
		return nil, err
	case ee.Regexp:
		return nil, fmt.Errorf("--expect %s: %w", ee.Text, ee.Err)
	}
	return nil, fmt.Errorf("--expect must be a JSON document or /regex/: %w", ee.Err)
}

// InsecureFlag registers --insecure: plain HTTP to a registry, allowed
// only on loopback by the image library.
func InsecureFlag(f *pflag.FlagSet, p *bool, usage string) {
	f.BoolVar(p, "insecure", false, usage)
}

// JSONFlag registers --json; usage names the document's schema.
func JSONFlag(f *pflag.FlagSet, p *bool, usage string) {
	f.BoolVar(p, "json", false, usage)
}
