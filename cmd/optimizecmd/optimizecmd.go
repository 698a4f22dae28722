// Package optimizecmd is `fnopt optimize`: it finds what makes an existing
// Go or Rust function ship large or start slowly, shows the plan, and
// changes the build setup when asked (--apply).
package optimizecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
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
	f.BoolVar(&opts.JSON, "json", false, "print the plan as a JSON document ("+Schema+")")
	f.BoolVar(&opts.Init, "init", true, "for Go: build the function and trace its package initialisation")
	f.BoolVar(&opts.Verify, "verify", false, "build before and after the changes and measure both (size, cold start)")
	f.IntVar(&opts.Samples, "samples", 10, "cold starts per side with --verify")
	f.StringVar(&opts.EventFile, "event", "", "with --verify, send the JSON event in `FILE` (default {\"hello\":\"world\"})")
	f.BoolVar(&opts.ColdCache, "cold-cache", false, "with --verify, evict the binaries from the page cache before each cold start")
	cmd.AddCommand(newImageCmd(ios))
	return cmd
}

// Document is the --json output.
type Document struct {
	Schema        string            `json:"schema"`
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
	// Ctrl-C stops the init trace and --verify's builds and measurements
	// (their processes are killed) instead of leaving them behind.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	plan, err := project.Analyze(opts.Dir)
	if err != nil {
		return err
	}
	diff, err := plan.Diff()
	if err != nil {
		return err
	}
	doc := &Document{Schema: Schema, Dir: opts.Dir, Project: plan.Project, Findings: plan.Findings,
		NotUnderstood: plan.Skipped, Diff: diff}
	if doc.Findings == nil {
		doc.Findings = []project.Finding{}
	}
	if doc.NotUnderstood == nil {
		doc.NotUnderstood = []project.Skipped{}
	}
	if opts.Init && plan.Project.Language == "go" {
		rep, err := inittrace.Analyze(ctx, opts.Dir, inittrace.Options{Timeout: opts.InitTimeout})
		if err != nil {
			doc.InitError = err.Error()
		} else {
			doc.Init = rep
		}
	}
	if opts.Verify {
		vr, err := verifyPlan(ctx, opts, plan)
		if err != nil {
			return err
		}
		doc.Verify = vr
	}
	if ctx.Err() != nil {
		return errors.New("interrupted: nothing was written")
	}
	if opts.Apply {
		files, err := applyUninterrupted(plan, opts.Writer)
		if err != nil {
			return err
		}
		doc.Applied = files
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
	if opts.Diff && diff != "" {
		fmt.Fprintln(opts.IO.Out)
		fmt.Fprint(opts.IO.Out, diff)
	}
	printFooter(opts, doc, plan)
	return crossFailure(doc)
}

// crossFailure fails the run (exit 1) when the plan's build for the new
// architecture did not answer: the plan would break the function.
func crossFailure(doc *Document) error {
	if doc.Verify == nil || doc.Verify.Cross == nil || doc.Verify.Cross.Failure == "" {
		return nil
	}
	return cmdutil.FailError(fmt.Errorf("the %s build of the plan failed: %s", doc.Verify.Cross.Arch, doc.Verify.Cross.Failure))
}

// applyUninterrupted applies the plan with Ctrl-C and SIGTERM held back:
// the renames take milliseconds, and a signal between two of them would
// leave some files changed and others not. A signal that came meanwhile is
// reported once the files are consistent.
func applyUninterrupted(plan *project.Plan, w project.Writer) ([]string, error) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	files, err := project.Apply(plan, w)
	if err != nil {
		return nil, err
	}
	select {
	case s := <-sigs:
		return files, fmt.Errorf("interrupted (%v) after the plan was applied in full: run fnopt optimize again to check", s)
	default:
	}
	return files, nil
}

func printPlan(w io.Writer, doc *Document) {
	p := doc.Project
	lang := p.Language
	if p.LambdaGo {
		lang += ", aws-lambda-go"
	}
	fmt.Fprintf(w, "fnopt optimize %s (%s)\n", doc.Dir, lang)
	var build []string
	for _, b := range p.Build {
		s := b.File + " (" + b.Kind
		if b.Detail != "" {
			s += ": " + b.Detail
		}
		build = append(build, s+")")
	}
	if len(build) == 0 {
		build = []string{"no build file found"}
	}
	fmt.Fprintf(w, "built by:  %s\n", strings.Join(build, ", "))
	for _, t := range p.Functions {
		fmt.Fprintf(w, "function:  %s  runtime %s, %s, handler %s  (%s:%d)\n", t.Name, orNone(t.Runtime), t.Arch, orNone(t.Handler), t.File, t.Line)
	}
	fmt.Fprintln(w)
	if len(doc.Findings) == 0 {
		fmt.Fprintln(w, "No findings: the build already uses fnopt's tuned settings.")
	} else {
		fmt.Fprintln(w, "Findings, most valuable first:")
	}
	for i, f := range doc.Findings {
		fmt.Fprintf(w, "%2d. [%s] %s\n", i+1, f.ID, f.Title)
		for _, e := range f.Evidence {
			fmt.Fprintf(w, "    at      %s  %s\n", e, e.Text)
		}
		fmt.Fprintf(w, "    why     %s\n", f.Why)
		fmt.Fprintf(w, "    effect  %s\n", f.Effect)
		switch {
		case f.Blocked != "":
			fmt.Fprintf(w, "    blocked %s\n", f.Blocked)
		case f.Manual != "":
			fmt.Fprintf(w, "    by hand %s\n", f.Manual)
		default:
			fmt.Fprintf(w, "    change  %s\n", editSummary(f.Edits))
		}
	}
	if len(doc.NotUnderstood) > 0 {
		fmt.Fprintln(w, "\nNot understood, left alone:")
		for _, s := range doc.NotUnderstood {
			fmt.Fprintf(w, "    %s: %s\n", s.File, s.Reason)
		}
	}
	if doc.Init != nil {
		printInit(w, doc.Init)
	} else if doc.InitError != "" {
		fmt.Fprintf(w, "\nInit trace skipped: %s\n", doc.InitError)
	}
	if doc.Verify != nil {
		printVerify(w, doc.Verify)
	}
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// editSummary lists the edited lines, per file.
func editSummary(edits []project.Edit) string {
	var files []string
	lines := map[string][]int{}
	for _, e := range edits {
		if _, ok := lines[e.File]; !ok {
			files = append(files, e.File)
		}
		lines[e.File] = append(lines[e.File], e.Line)
	}
	var parts []string
	for _, f := range files {
		ls := lines[f]
		sort.Ints(ls)
		var strs []string
		for i, l := range ls {
			if i == 0 || l != ls[i-1] {
				strs = append(strs, strconv.Itoa(l))
			}
		}
		parts = append(parts, f+":"+strings.Join(strs, ","))
	}
	return strings.Join(parts, " ")
}

func printFooter(opts *Options, doc *Document, plan *project.Plan) {
	w := opts.IO.Out
	n := len(plan.Applicable())
	switch {
	case opts.Apply && len(doc.Applied) > 0:
		fmt.Fprintf(w, "\nApplied %d finding(s): changed %s.\n", n, strings.Join(doc.Applied, ", "))
	case opts.Apply:
		fmt.Fprintln(w, "\nNothing to apply.")
	case n > 0:
		fmt.Fprintf(w, "\n%d finding(s) can be fixed automatically: --diff shows the changes, --apply makes them.\n", n)
	}
}
