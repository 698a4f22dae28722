// Command fnopt makes AWS Lambda functions in Go and Rust ship small and
// start fast: it scaffolds them (new), builds tuned artifacts (build),
// measures cold starts (verify) and tunes existing projects (optimize).
package main

import (
	"os"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/verify/sandbox"
)

func main() {
	// fnopt re-executes itself as the init of an image's sandbox; in that
	// role it never returns from here.
	sandbox.MaybeRunInit()
	os.Exit(run(cmdutil.System(), os.Args[1:]))
}
