package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/buildcmd"
	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/cmd/newcmd"
	"github.com/fnopt/fnopt/cmd/optimizecmd"
	"github.com/fnopt/fnopt/cmd/verifycmd"
	"github.com/fnopt/fnopt/internal/countio"
	"github.com/fnopt/fnopt/internal/version"
)

// newRootCmd wires every subcommand. Each command lives in its own package
// under cmd/ and only parses flags, calls a library and prints.
func newRootCmd(io *cmdutil.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "fnopt",
		Short: "Make Go and Rust Lambda functions ship small and start fast",
		// cobra adds --version (and -v) for a root with a version; its
		// line reads "fnopt version v1.2.3 (commit …), built with go…".
		Version:       version.Get().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// With Args set, cobra's Find hands an unknown command back to us
		// (see run) instead of an error whose suggestion sits on lines the
		// one-line error report drops.
		Args: cobra.ArbitraryArgs,
		// cobra's default, set because SuggestionsFor reads it as is.
		SuggestionsMinimumDistance: 2,
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	// Flag parse errors are usage errors (exit status 2), in the user's
	// words.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return cmdutil.UsageError(cmdutil.FlagError(err))
	})
	root.AddCommand(buildcmd.NewCmd(io))
	root.AddCommand(newcmd.NewCmd(io))
	root.AddCommand(optimizecmd.NewCmd(io))
	root.AddCommand(verifycmd.NewCmd(io))
	return root
}

// unknownCommand refuses `fnopt verfy` in one line, with cobra's
// suggestion when one is close; nil when args name a command.
func unknownCommand(root *cobra.Command, args []string) error {
	// cobra adds these two at Execute; Find must know them now.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd(args...)
	cmd, rest, err := root.Find(args)
	if err != nil || cmd != root {
		return nil
	}
	var word string
	for _, a := range rest {
		if !strings.HasPrefix(a, "-") {
			word = a
			break
		}
	}
	if word == "" {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", word, root.CommandPath())
	if s := root.SuggestionsFor(word); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	} else {
		msg += "; run 'fnopt --help' for the commands"
	}
	return cmdutil.UsageError(fmt.Errorf("%s", msg))
}

// run executes fnopt with args on ios and returns the process exit
// status. An interrupt (Ctrl-C) or a TERM cancels the command's context:
// the command cleans up and returns, and fnopt exits 128+signal (130, 143)
// as shells expect. A second signal ends fnopt at once.
//
// Errors are reported here, for every command: one line on stderr, and,
// when the command was asked for JSON and printed nothing, the
// fnopt.error/v1 document on stdout, so a script reading stdout always
// gets one document.
func run(ios *cmdutil.IOStreams, args []string) int {
	// A command that failed after printing its document gets no second
	// one: what it writes is counted.
	stdout := countio.NewWriter(ios.Out)
	streams := *ios
	streams.Out = stdout
	root := newRootCmd(&streams)
	root.SetArgs(args)
	if err := unknownCommand(root, args); err != nil {
		return cmdutil.Report(ios.ErrOut, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var got os.Signal
	caught := make(chan struct{})
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		got = s
		close(caught)
		cancel()
		if s, ok := <-sigs; ok {
			os.Exit(exitStatus(s))
		}
	}()

	cmd, err := root.ExecuteContextC(ctx)
	code := cmdutil.Report(ios.ErrOut, err)
	select {
	case <-caught:
		if err != nil {
			code = exitStatus(got)
		}
	default:
	}
	if err != nil && cmd != nil && stdout.N() == 0 && cmdutil.WantsJSON(cmd.Flags()) {
		if werr := cmdutil.WriteErrorJSON(ios.Out, err, code); werr != nil {
			fmt.Fprintf(ios.ErrOut, "fnopt: writing the error document: %v\n", werr)
		}
	}
	return code
}

// exitStatus is the shell's status for a process ended by s.
func exitStatus(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 128 + int(syscall.SIGINT)
}
