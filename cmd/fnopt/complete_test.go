package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
)

// Shell completion goes through cobra's hidden __complete command, as the
// scripts `fnopt completion bash|zsh|fish|powershell` print call it: the
// values offered for each enumerated flag are the ones the flag accepts,
// and path flags complete files of their kind.
func TestCompleteFlagValues(t *testing.T) {
	const (
		noFile   = cobra.ShellCompDirectiveNoFileComp
		fileExt  = cobra.ShellCompDirectiveFilterFileExt
		dirs     = cobra.ShellCompDirectiveFilterDirs
		noFileNS = cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	)
	tests := []struct {
		args      []string // after __complete; the last is the word typed
		want      []string
		directive cobra.ShellCompDirective
	}{
		{[]string{"new", "--lang", ""}, []string{"go", "rust"}, noFile},
		{[]string{"new", "--event", ""}, []string{"raw", "http", "url", "sqs", "s3", "eventbridge"}, noFile},
		{[]string{"new", "--event", "s"}, []string{"sqs", "s3"}, noFile},
		{[]string{"new", "--arch", ""}, []string{"arm64", "x86_64"}, noFile},
		{[]string{"new", "--package", ""}, []string{"zip", "image"}, noFile},
		{[]string{"new", "--client", ""}, []string{"official", "minimal"}, noFile},
		{[]string{"new", "--link", ""}, []string{"dynamic", "static"}, noFile},
		{[]string{"new", "--module", ""}, nil, noFile},
		{[]string{"build", "--arch", ""}, []string{"arm64", "x86_64"}, noFile},
		{[]string{"build", "--package", "i"}, []string{"image"}, noFile},
		{[]string{"build", "--main", ""}, nil, dirs},
		{[]string{"verify", "--format", ""}, []string{"text", "json", "markdown"}, noFile},
		{[]string{"verify", "--gate-metric", ""}, []string{"init", "cold-start", "first-invoke", "warm-invoke"}, noFile},
		{[]string{"verify", "--target", ""}, []string{"local", "aws"}, noFile},
		{[]string{"verify", "--arch", "arm64,"}, []string{"arm64,x86_64"}, noFileNS},
		{[]string{"verify", "--event", ""}, []string{"json"}, fileExt},
		{[]string{"verify", "--baseline", ""}, []string{"json"}, fileExt},
		{[]string{"verify", "--plot", ""}, []string{"svg", "png"}, fileExt},
		{[]string{"verify", "--main", ""}, nil, dirs},
		{[]string{"optimize", "--event", ""}, []string{"json"}, fileExt},
		{[]string{"optimize", "image", "--platform", ""}, []string{"linux/arm64", "linux/amd64"}, noFile},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			ios := &cmdutil.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
			root := newRootCmd(ios)
			root.SetArgs(append([]string{cobra.ShellCompRequestCmd}, tt.args...))
			if err := root.Execute(); err != nil {
				t.Fatalf("__complete: %v\n%s", err, errOut.String())
			}
			// One completion a line (a tab before any description), then
			// ":DIRECTIVE".
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			last := lines[len(lines)-1]
			var got []string
			for _, l := range lines[:len(lines)-1] {
				v, _, _ := strings.Cut(l, "\t")
				got = append(got, v)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("completions %q, want %q", got, tt.want)
			}
			if want := ":" + strconv.Itoa(int(tt.directive)); last != want {
				t.Errorf("directive %s, want %s", last, want)
			}
		})
	}
}
