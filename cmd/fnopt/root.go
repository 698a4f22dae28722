package main

import (
	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/buildcmd"
	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/cmd/newcmd"
	"github.com/fnopt/fnopt/cmd/optimizecmd"
	"github.com/fnopt/fnopt/cmd/verifycmd"
)

// newRootCmd wires every subcommand. Each command lives in its own package
// under cmd/ and only parses flags, calls a library and prints.
func newRootCmd(io *cmdutil.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:           "fnopt",
		Short:         "Make Go and Rust Lambda functions ship small and start fast",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	// Flag parse errors are usage errors: exit status 2, like the rest.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return cmdutil.UsageError(err)
	})
	root.AddCommand(buildcmd.NewCmd(io))
	root.AddCommand(newcmd.NewCmd(io))
	root.AddCommand(optimizecmd.NewCmd(io))
	root.AddCommand(verifycmd.NewCmd(io))
	return root
}

// run executes fnopt with args and returns the process exit status.
func run(args []string) int {
	io := cmdutil.System()
	root := newRootCmd(io)
	root.SetArgs(args)
	return cmdutil.Report(io.ErrOut, root.Execute())
}
