// Package newcmd implements `fnopt new`: it gathers the project's options
// from flags, questions or defaults, renders the templates and writes the
// project atomically.
package newcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/templates"
)

// Options are `fnopt new`'s inputs.
type Options struct {
	IO      *cmdutil.IOStreams
	Path    string            // PATH argument; empty when not given
	Project templates.Options // values from flags
	Given   map[string]bool   // flags set on the command line, by name
	Yes     bool              // never ask; defaults fill the gaps
	// Prompter asks the questions; nil means no questions (no terminal,
	// or --yes).
	Prompter Prompter
}

// NewCmd returns the `new` command.
func NewCmd(io *cmdutil.IOStreams) *cobra.Command {
	return newCmd(io, nil)
}

// newCmd lets tests supply the Prompter; with nil, a terminal gets survey.
func newCmd(io *cmdutil.IOStreams, prompter Prompter) *cobra.Command {
	opts := &Options{IO: io, Given: map[string]bool{}}
	cmd := &cobra.Command{
		Use:   "new [PATH]",
		Short: "Create a Go or Rust Lambda function tuned to ship small and start fast",
		Long: `Create a Lambda function project in PATH (its last element is the name
unless --name is given): the handler for the chosen event source with a unit
test fed a real AWS sample event, a Makefile with fnopt's tuned build
settings, a SAM template.yaml, fnopt.yaml, a README and a CI workflow.

On a terminal, fnopt new asks for what the flags leave open. With --yes, or
when stdin is not a terminal, defaults fill the gaps and nothing waits for
input. PATH must not exist or be an empty folder: fnopt new never overwrites
files, and an interrupted run leaves nothing behind.`,
		Example: `  fnopt new hello                                  # ask, or Go + raw JSON + arm64 + zip
  fnopt new hello --yes --lang rust --client minimal
  fnopt new hello --yes --lang rust --link static   # glibc inside the bootstrap
  fnopt new api --event http --arch x86_64 --module github.com/me/api --yes
  fnopt new jobs --event sqs --package image --client minimal --yes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Path = args[0]
			}
			cmd.Flags().Visit(func(f *pflag.Flag) { opts.Given[f.Name] = true })
			// Questions only on a terminal and without --yes: nothing ever
			// waits for input in scripts and CI.
			switch {
			case opts.Yes || !io.CanPrompt():
				opts.Prompter = nil
			case prompter != nil:
				opts.Prompter = prompter
			default:
				opts.Prompter = newSurveyPrompter(io.In, io.Out, io.ErrOut)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return Run(ctx, opts)
		},
	}
	f := cmd.Flags()
	p := &opts.Project
	f.StringVar(&p.Name, "name", "", "function name (default: PATH's last element)")
	// The choices are parsed as they are given (cmdutil.FlagError words a
	// refusal), by the same parsers as fnopt.yaml.
	f.Var(optionValue{p, "lang"}, "lang", "language: go or rust (default go)")
	f.Var(optionValue{p, "event"}, "event", "event source: raw, http, url, sqs, s3 or eventbridge (default raw)")
	f.Var(optionValue{p, "arch"}, "arch", "architecture: arm64 or x86_64 (default arm64)")
	f.Var(optionValue{p, "package"}, "package", "packaging: zip or image (default zip)")
	f.Var(optionValue{p, "client"}, "client", "runtime client: official or minimal (default official)")
	f.Var(optionValue{p, "link"}, "link", "Rust only: link glibc dynamic or static (default dynamic)")
	f.StringVar(&p.Module, "module", "", "Go module path (default: the name)")
	f.BoolVarP(&opts.Yes, "yes", "y", false, "ask nothing: use defaults for what flags leave open")
	// The shell completes the choices from the lists they are parsed by.
	for _, name := range choiceFlags() {
		cmdutil.CompleteChoices(cmd, name, templates.Choices[name])
	}
	cmdutil.CompleteNothing(cmd, "name")
	cmdutil.CompleteNothing(cmd, "module")
	return cmd
}

// Run creates the project. Every error is bad input or a job that could
// not be done: exit status 2.
func Run(ctx context.Context, opts *Options) error {
	o, path, err := resolve(opts)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	files, err := templates.Render(o)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	// An interrupt while writing removes what was written; before this
	// point nothing is on disk, and the default (exit) is right.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := templates.Write(ctx, path, files); err != nil {
		return cmdutil.UsageError(err)
	}
	printNextSteps(opts.IO, o, path)
	return nil
}

// resolve turns flags, answers and defaults into the project's options
// and its folder, checking every value.
func resolve(opts *Options) (templates.Options, string, error) {
	o := opts.Project
	// Given values are checked first, so a typo fails before any question.
	for _, name := range choiceFlags() {
		if opts.Given[name] {
			if err := o.Set(name, o.Get(name)); err != nil {
				return o, "", optionError(err)
			}
		}
	}
	if opts.Given["module"] {
		if err := templates.ValidateModule(o.Module); err != nil {
			return o, "", optionError(err)
		}
	}
	if opts.Given["name"] {
		if err := templates.ValidateName(o.Name); err != nil {
			return o, "", optionError(err)
		}
	}
	path := opts.Path
	if path != "" {
		path = filepath.Clean(path)
		if !opts.Given["name"] {
			o.Name = nameFromPath(path)
			if err := templates.ValidateName(o.Name); err != nil {
				return o, "", fmt.Errorf("%v (from PATH; pass --name to choose another)", err)
			}
		}
		if err := templates.CheckTarget(path); err != nil {
			return o, "", err
		}
	}
	if opts.Prompter != nil {
		if err := ask(opts.Prompter, &o, opts.Given, path != ""); err != nil {
			return o, "", err
		}
	}
	for _, name := range templates.OptionNames {
		if o.Get(name) == "" {
			o.Set(name, templates.Choices[name][0])
		}
	}
	if o.Name == "" {
		if opts.Yes {
			return o, "", errors.New("the function name is empty: pass a PATH or --name")
		}
		return o, "", errors.New("the function name is empty: pass a PATH or --name (stdin is not a terminal, so fnopt new cannot ask)")
	}
	if err := o.Normalize(); err != nil {
		return o, "", optionError(err)
	}
	if path == "" {
		path = o.Name
		if err := templates.CheckTarget(path); err != nil {
			return o, "", err
		}
	}
	return o, path, nil
}

// choiceFlags are the flags with a fixed set of choices: the options
// asked in order, and a Rust function's link, asked after them.
func choiceFlags() []string { return append(slices.Clone(templates.OptionNames), "link") }

// optionValue is a flag that sets one of templates.Options's choices
// through its parser.
type optionValue struct {
	o    *templates.Options
	name string
}

func (v optionValue) String() string {
	if v.o == nil {
		return ""
	}
	return v.o.Get(v.name)
}
func (v optionValue) Set(s string) error { return v.o.Set(v.name, s) }
func (v optionValue) Type() string       { return "string" }

// optionError words the templates' refusals as fnopt new always has, with
// the flag in front: the library names no flags.
func optionError(err error) error {
	var oe *templates.OptionError
	var ce *settings.ChoiceError
	var me *templates.ModuleError
	switch {
	case errors.Is(err, templates.ErrEmptyName):
		return fmt.Errorf("%w: pass a PATH or --name", err)
	case errors.Is(err, config.ErrGoLink):
		return fmt.Errorf("--link is for Rust functions: %v; drop --link or use --lang rust", config.ErrGoLink)
	case errors.As(err, &oe) && errors.As(err, &ce):
		return fmt.Errorf("invalid --%s %q: use one of %s", oe.Option, ce.Value, strings.Join(ce.Choices, ", "))
	case errors.As(err, &me):
		return fmt.Errorf("invalid --module %q: %s; use a path like github.com/you/name", me.Module, me.Why)
	}
	return err
}

// nameFromPath is PATH's last element; for "." and the like, the name of
// the folder it stands for.
func nameFromPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return filepath.Base(path)
}
