// Package optimizecmd is `fnopt optimize`: it finds what makes an existing
// Go or Rust function ship large or start slowly, shows the plan, and
// changes the build setup when asked (--apply).
package optimizecmd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/version"
	"github.com/fnopt/fnopt/optimize"
	"github.com/fnopt/fnopt/optimize/inittrace"
	"github.com/fnopt/fnopt/optimize/project"
	"github.com/fnopt/fnopt/optimize/proof"
)

// Schema names the version of the --json document.
const Schema = "fnopt.optimize/v1"

// Options are the command's inputs once flags are parsed.
type Options struct {
	IO  *cmdutil.IOStreams
	Dir string

	Diff    bool // --diff
	Apply   bool // --apply
	JSON    bool // --json
	Init    bool // --init
	Verify  bool // --verify
	Samples int  // --samples
	// ColdCache evicts the binaries from the page cache before each start.
	ColdCache bool // --cold-cache
	// EventFile is the payload sent to the function with --verify.
	EventFile string // --event

	// InitTimeout bounds the init-trace run of the function.
	InitTimeout time.Duration
	// Writer replaces files on --apply; tests inject failures through it.
	Writer project.Writer
}

// NewCmd returns the `optimize` command. Subcommands for other kinds of
// artifact (`optimize image`) are added to it with AddCommand.
func NewCmd(ios *cmdutil.IOStreams) *cobra.Command {
	cmd := newCmd(ios, project.OSWriter{})
	// Subcommands for other kinds of artifact go here, one line each:
	// cmd.AddCommand(<pkg>.NewCmd(ios)) for `fnopt optimize image`.
	return cmd
}

func newCmd(ios *cmdutil.IOStreams, w project.Writer) *cobra.Command {
	opts := &Options{IO: ios, Writer: w, InitTimeout: 20 * time.Second}
	cmd := &cobra.Command{
		Use:   "optimize [DIR]",
		Short: "Find what makes an existing function large or slow to start, and fix its build",
		Long: `Look at the Go or Rust function in DIR (default: the current folder): how it is
built (Makefile, scripts, Dockerfile, SAM template.yaml, serverless.yml,
Cargo.toml) and what it targets (runtime, architecture). Print a plan: each
finding with its evidence (file:line), why it matters and its expected effect,
most valuable first. For Go functions, also build the function and trace its
package initialisation (GODEBUG=inittrace=1) to point at costly init work.

Nothing is written unless --apply is given. --apply edits the files in place,
keeping comments and formatting; every file is replaced atomically and only
after the whole plan has been checked, so a failure leaves them all as they were.
Files fnopt does not understand are left alone and listed.

Exit status: 0 plan shown or applied; 1 --verify found that the plan's arm64
build does not answer an invocation; 2 bad input (not a function folder,
malformed YAML or TOML, read-only file) or the plan could not be applied.`,
		Example: `  fnopt optimize
  fnopt optimize ./orders --diff
  fnopt optimize ./orders --apply
  fnopt optimize --json | jq '.findings[].id'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = "."
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			return cmdutil.UsageError(Run(cmd.Context(), opts))
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Diff, "diff", false, "show the changes as a unified diff")
	f.BoolVar(&opts.Apply, "apply", false, "make the changes (without it nothing is written)")
	cmdutil.JSONFlag(f, &opts.JSON, "print the plan as a JSON document ("+Schema+")")
	f.BoolVar(&opts.Init, "init", true, "for Go: build the function and trace its package initialisation")
	f.BoolVar(&opts.Verify, "verify", false, "build before and after the changes and measure both (size, cold start)")
	cmdutil.SamplesFlag(f, &opts.Samples, cmdutil.SamplesProof, "cold starts per side with --verify")
	cmdutil.EventFlag(f, &opts.EventFile, "with --verify, send the JSON event in `FILE` (default {\"hello\":\"world\"})")
	f.BoolVar(&opts.ColdCache, "cold-cache", false, "with --verify, evict the binaries from the page cache before each cold start")
	cmd.AddCommand(newImageCmd(ios))
	return cmd
}

// Document is the --json output.
type Document struct {
	Schema string `json:"schema"`
	// FnoptVersion is the fnopt that made the plan (internal/version).
	FnoptVersion  string            `json:"fnopt_version"`
	Dir           string            `json:"dir"`
	Project       project.Project   `json:"project"`
	Findings      []project.Finding `json:"findings"`
	NotUnderstood []project.Skipped `json:"not_understood"`
	Diff          string            `json:"diff"`
	Applied       []string          `json:"applied,omitempty"`
	Init          *inittrace.Report `json:"init,omitempty"`
	InitError     string            `json:"init_error,omitempty"`
	Verify        *proof.Report     `json:"verify,omitempty"`
}

// Run analyses opts.Dir, prints the plan and applies it when asked.
func Run(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	o := optimize.Options{Init: opts.Init, InitTimeout: opts.InitTimeout, Verify: opts.Verify,
		Apply: opts.Apply, Writer: opts.Writer}
	if opts.Verify {
		po, err := proofOptions(opts)
		if err != nil {
			return err
		}
		o.Proof = po
	}
	res, err := optimize.Run(ctx, opts.Dir, o)
	if err != nil {
		return err
	}
	doc := newDocument(opts.Dir, res)
	if res.Late {
		fmt.Fprintln(opts.IO.ErrOut, "fnopt: interrupted after the plan was applied in full; every file is changed")
	}
	if opts.JSON {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
		return crossFailure(doc)
	}
	printPlan(opts.IO.Out, doc)
	if opts.Diff && res.Diff != "" {
		fmt.Fprintln(opts.IO.Out)
		fmt.Fprint(opts.IO.Out, res.Diff)
	}
	printFooter(opts, doc, res.Plan)
	return crossFailure(doc)
}

// newDocument is the --json document of a run, also what the text report
// is rendered from.
func newDocument(dir string, res *optimize.Result) *Document {
	plan := res.Plan
	doc := &Document{Schema: Schema, FnoptVersion: version.Get().Version, Dir: dir, Project: plan.Project, Findings: plan.Findings,
		NotUnderstood: plan.Skipped, Diff: res.Diff, Applied: res.Applied, Init: res.Init,
		InitError: res.InitError, Verify: res.Verify}
	if doc.Findings == nil {
		doc.Findings = []project.Finding{}
	}
	if doc.NotUnderstood == nil {
		doc.NotUnderstood = []project.Skipped{}
	}
	return doc
}

// crossFailure fails the run (exit 1) when the plan's build for the new
// architecture did not answer: the plan would break the function.
func crossFailure(doc *Document) error {
	if doc.Verify == nil || doc.Verify.Cross == nil || doc.Verify.Cross.Failure == "" {
		return nil
	}
	return cmdutil.FailError(fmt.Errorf("the %s build of the plan failed: %s", doc.Verify.Cross.Arch, doc.Verify.Cross.Failure))
}
