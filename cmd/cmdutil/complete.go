package cmdutil

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Shell completion of flag values. Each command registers its flags'
// completions from the same lists its parsers validate against, so the
// shell offers exactly what the command accepts. A flag name that does not
// exist is a bug of the command that registers it, caught by its tests.

// CompleteChoices completes --name with the choices that start with what
// is typed, and no file names.
func CompleteChoices(cmd *cobra.Command, name string, choices []string) {
	register(cmd, name, func(_ *cobra.Command, _ []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, c := range choices {
			if strings.HasPrefix(c, typed) {
				out = append(out, c)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// CompleteChoiceList completes --name, a comma-separated list of choices:
// after "a," it offers "a,b" for each choice not yet in the list.
func CompleteChoiceList(cmd *cobra.Command, name string, choices []string) {
	register(cmd, name, func(_ *cobra.Command, _ []string, typed string) ([]cobra.Completion, cobra.ShellCompDirective) {
		prefix := ""
		if i := strings.LastIndex(typed, ","); i >= 0 {
			prefix = typed[:i+1]
		}
		have := map[string]bool{}
		for _, c := range strings.Split(strings.TrimSuffix(prefix, ","), ",") {
			have[c] = true
		}
		var out []cobra.Completion
		for _, c := range choices {
			if !have[c] && strings.HasPrefix(prefix+c, typed) {
				out = append(out, prefix+c)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

// CompleteNothing turns off file-name completion for a free-text --name
// (a function name, a module path, a git revision).
func CompleteNothing(cmd *cobra.Command, name string) {
	register(cmd, name, cobra.NoFileCompletions)
}

// CompleteFiles completes --name with file names ending in one of exts
// (without the dot), and folders to reach them.
func CompleteFiles(cmd *cobra.Command, name string, exts ...string) {
	if err := cmd.MarkFlagFilename(name, exts...); err != nil {
		panic(fmt.Sprintf("completing --%s of %s: %v", name, cmd.Name(), err))
	}
}

// CompleteDirs completes --name with folder names.
func CompleteDirs(cmd *cobra.Command, name string) {
	if err := cmd.MarkFlagDirname(name); err != nil {
		panic(fmt.Sprintf("completing --%s of %s: %v", name, cmd.Name(), err))
	}
}

func register(cmd *cobra.Command, name string, f cobra.CompletionFunc) {
	if err := cmd.RegisterFlagCompletionFunc(name, f); err != nil {
		panic(fmt.Sprintf("completing --%s of %s: %v", name, cmd.Name(), err))
	}
}
