package newcmd

import (
	"fmt"
	"path/filepath"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/templates"
)

func printNextSteps(io *cmdutil.IOStreams, o templates.Options, path string) {
	w := io.Out
	fmt.Fprintf(w, "Created %s in %s: %s, %s event, %s, %s, %s runtime client.\n\n",
		o.Name, path, o.Lang, o.Event, o.Arch, o.Package, o.Client)
	fmt.Fprintf(w, "Next steps:\n")
	if filepath.Clean(path) != "." {
		fmt.Fprintf(w, "  cd %s\n", path)
	}
	fmt.Fprintf(w, "  make test           # the handler's unit test, fed a real AWS event\n")
	if o.Package == "image" {
		fmt.Fprintf(w, "  fnopt build         # dist/bootstrap and a container image in dist/, tuned\n")
	} else {
		fmt.Fprintf(w, "  fnopt build         # dist/bootstrap and dist/function.zip, tuned\n")
	}
	fmt.Fprintf(w, "  fnopt verify        # measure the cold start against fnopt.yaml's budgets\n")
	// BuildMethod: makefile means SAM deploys what `sam build` made: a
	// deploy without it would upload the sources.
	if o.Package == "image" {
		fmt.Fprintf(w, "  fnopt build --image-out <registry>/%s:v1 && sam deploy --guided --parameter-overrides ImageUri=<registry>/%s:v1\n", o.Name, o.Name)
	} else {
		fmt.Fprintf(w, "  sam build && sam deploy --guided  # see README.md\n")
	}
}
