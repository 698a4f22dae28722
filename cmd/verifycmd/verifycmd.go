// Package verifycmd is `fnopt verify`: it measures how a function starts,
// the way Lambda starts a custom runtime, against an in-process Runtime API
// emulator, and prints the figures (or --json). With --serve it runs the
// function for a person to invoke with curl.
package verifycmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/environ"
	"github.com/fnopt/fnopt/verify"
)

// Options are the command's inputs once flags are parsed. They are
// exported for extensions (gate.go), which add flags of their own and may
// take over the run.
type Options struct {
	IO     *cmdutil.IOStreams
	Target string // TARGET; default "."

	Samples   int           // --samples
	Warm      int           // --warm
	EventFile string        // --event
	MemoryMB  int           // --memory
	MemorySet bool          // --memory was given: enforce it, and say when it cannot be
	Timeout   time.Duration // --timeout
	ColdCache bool          // --cold-cache
	Expect    string        // --expect
	JSON      bool          // --json
	Insecure  bool          // --insecure
	Serve     bool          // --serve
	Listen    string        // --listen
	External  bool          // --external (with --serve: start no function)
	Main      string        // --main PKG|BIN: a project's function; empty keeps fnopt.yaml's
	HTTP      bool          // --http (with --serve: plain HTTP as the project's event)
	HTTPAddr  string        // --http-listen
	Watch     bool          // --watch (with --serve: rebuild and restart on changes)
	Env       []string      // --env KEY=VALUE, repeatable
	EnvFiles  []string      // --env-file FILE, repeatable

	// SamplesAuto is --samples auto: the gate decides how many samples
	// to take (adaptive sampling); Samples is then unused.
	SamplesAuto bool
}

// Extension plugs into `fnopt verify`: it adds flags, and when they are
// used it runs the command instead of the plain measurement. The CI gate
// (--baseline, --save-baseline, --against, --format, --plot) is one.
type Extension interface {
	AddFlags(f *pflag.FlagSet)
	// Active reports whether the user asked for the extension.
	Active() bool
	// Run does the command's work with the parsed options.
	Run(ctx context.Context, o *Options) error
}

// NewCmd returns the `verify` command.
func NewCmd(ios *cmdutil.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	exts := extensions()
	cmd := &cobra.Command{
		Use:   "verify [TARGET]",
		Short: "Measure cold starts locally, the way Lambda starts a custom runtime",
		Long: `Measure how TARGET starts: each cold sample is a fresh process started as
Lambda starts a provided.al2023 function (clean environment with Lambda's
variables, working directory the task root, its own process group) against an
in-process Runtime API emulator. Per sample: init (start until the first
/next), first invoke, cold start (start until the first response), --warm
further invocations, and peak RSS.

TARGET is a project folder (default: the current folder; built for this
machine's architecture into a temporary folder), a bootstrap executable, a
deployment zip, or an image: oci:DIR[:TAG], tar:FILE or a registry
reference (run in a sandbox: needs root and namespaces).

A project is sent its own testdata/event.json (other targets, and projects
without one: {"hello":"world"}), unless --event names a file. The function
gets its own environment variables besides Lambda's: a project's
template.yaml Environment, then fnopt.yaml's env, then --env-file, then --env
(a later source wins; names Lambda reserves are refused).

Every answer is checked: an error response, a crash, an init error, no /next
within 10 s or no answer within --timeout fails the run with the function's
output. Local figures compare builds on one machine; they are not Lambda's
Init Duration (see docs/verify.md).

With --serve, the function runs until Ctrl-C and Lambda's Invoke API listens
on --listen:
  curl -d '{"hello":"world"}' http://127.0.0.1:9001/2015-03-31/functions/function/invocations
--http also serves plain HTTP, each request sent as an http (API Gateway HTTP
API) or url (function URL) project's event; --watch rebuilds the project and
restarts the function when its sources change.

A project's fnopt.yaml budgets (init_p50_ms, init_p90_ms, artifact_bytes)
are checked against the measurement and reported.

Exit status: 0 ok; 1 the function failed or a budget was exceeded; 2 bad
input or could not measure.`,
		Example: `  fnopt verify
  fnopt verify dist/function.zip --samples 50 --warm 5 --json
  fnopt verify ./hello --event event.json --expect '{"ok":true}'
  fnopt verify oci:dist/image --memory 256 --cold-cache
  fnopt verify --env TABLE=orders --env-file dev.env
  fnopt verify --serve
  fnopt verify --serve --http --watch   # curl http://127.0.0.1:3000/, rebuilt on change
  fnopt verify --serve --external   # emulator only: run your function yourself`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Target = "."
			if len(args) == 1 {
				opts.Target = args[0]
			}
			opts.MemorySet = cmd.Flags().Changed("memory")
			if cmd.Flags().Changed("http-listen") && !opts.HTTP {
				return cmdutil.UsageError(errors.New("--http-listen works with --http: add --http (and --serve) to serve plain HTTP"))
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			for _, e := range exts {
				if e.Active() {
					return e.Run(ctx, opts)
				}
			}
			// No extension runs: flags that only one would act on are
			// refused, not ignored.
			for _, e := range exts {
				if c, ok := e.(inactiveChecker); ok {
					if err := c.CheckInactive(); err != nil {
						return cmdutil.UsageError(err)
					}
				}
			}
			if opts.Serve {
				return Serve(ctx, opts)
			}
			for _, f := range []struct {
				name string
				set  bool
			}{{"--http", opts.HTTP}, {"--watch", opts.Watch}} {
				if f.set {
					return cmdutil.UsageError(fmt.Errorf("%s works with --serve: add --serve to run the function until Ctrl-C", f.name))
				}
			}
			return Run(ctx, opts)
		},
	}
	f := cmd.Flags()
	cmdutil.SamplesOrAutoFlag(f, &opts.Samples, &opts.SamplesAuto, cmdutil.SamplesVerify, "cold starts to measure: `N`, or auto with a comparison")
	f.IntVar(&opts.Warm, "warm", 0, "warm invocations after each cold start")
	cmdutil.EventFlag(f, &opts.EventFile, "send the JSON event in `FILE` (default: a project's testdata/event.json, else {\"hello\":\"world\"})")
	f.StringArrayVar(&opts.Env, "env", nil, "set the function's environment variable `KEY=VALUE` (a bare KEY takes fnopt's own value); repeatable, wins over --env-file")
	f.StringArrayVar(&opts.EnvFiles, "env-file", nil, "set the function's environment variables from `FILE` (KEY=VALUE lines, # comments, as docker's --env-file); repeatable, wins over template.yaml and fnopt.yaml")
	f.IntVar(&opts.MemoryMB, "memory", 128, "function memory in `MB`: sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE; given explicitly, also enforced with a cgroup v2 limit where the machine allows")
	f.DurationVar(&opts.Timeout, "timeout", 30*time.Second, "function timeout: an invocation not answered by then fails")
	f.BoolVar(&opts.ColdCache, "cold-cache", false, "evict the artifact's files from the page cache before each sample")
	cmdutil.ExpectFlag(f, &opts.Expect, "check every response: a JSON document (compared as JSON) or /REGEX/")
	cmdutil.JSONFlag(f, &opts.JSON, "print the report as JSON (schema "+Schema+")")
	cmdutil.InsecureFlag(f, &opts.Insecure, "allow plain HTTP to a registry on loopback (image targets)")
	f.BoolVar(&opts.Serve, "serve", false, "run the function and Lambda's Invoke API on --listen until interrupted")
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:9001", "with --serve: `ADDR` to listen on")
	f.BoolVar(&opts.External, "external", false, "with --serve: start no function; serve the Runtime API too, for a function you start yourself")
	cmdutil.MainFlag(f, &opts.Main)
	f.BoolVar(&opts.HTTP, "http", false, "with --serve: also serve plain HTTP on --http-listen, each request sent as the project's event (http: API Gateway HTTP API, url: function URL) and the answer returned as HTTP")
	f.StringVar(&opts.HTTPAddr, "http-listen", DefaultHTTPAddr, "with --http: loopback `ADDR` to serve plain HTTP on")
	f.BoolVar(&opts.Watch, "watch", false, "with --serve: rebuild the project when its sources change, and restart the function on the new build (a failed build keeps the old one running)")
	for _, e := range exts {
		e.AddFlags(f)
	}
	complete(cmd)
	return cmd
}

// MeasureOptions translates the flags into the library's options.
func (o *Options) MeasureOptions() (verify.Options, error) {
	if o.SamplesAuto {
		return verify.Options{}, errors.New("--samples auto measures until a comparison is decided: use it with --against or --baseline")
	}
	if err := cmdutil.CheckSamples(o.Samples); err != nil {
		return verify.Options{}, err
	}
	if o.Warm < 0 {
		return verify.Options{}, fmt.Errorf("--warm %d: must be 0 or more", o.Warm)
	}
	// Lambda allows 128 MB to 10,240 MB.
	if o.MemoryMB < 128 || o.MemoryMB > 10240 {
		return verify.Options{}, fmt.Errorf("--memory %d: Lambda allows 128 to 10240 MB", o.MemoryMB)
	}
	if o.Timeout <= 0 {
		return verify.Options{}, fmt.Errorf("--timeout %v: must be positive", o.Timeout)
	}
	mo := verify.Options{
		Samples:   o.Samples,
		Warm:      o.Warm,
		Function:  verify.Function{MemoryMB: o.MemoryMB},
		Timeout:   o.Timeout,
		ColdCache: o.ColdCache,
	}
	var err error
	if mo.Event, mo.EventFile, err = cmdutil.ReadEventFor(o.EventFile, o.Target); err != nil {
		return mo, err
	}
	if mo.Function.Env, err = o.functionEnv(); err != nil {
		return mo, err
	}
	if mo.Expect, err = cmdutil.ParseExpect(o.Expect); err != nil {
		return mo, err
	}
	return mo, nil
}

// functionEnv resolves the function's own variables: template.yaml and
// fnopt.yaml for a project, then --env-file, then --env. Variables the
// template sets with an intrinsic are left out, with a warning.
func (o *Options) functionEnv() ([]string, error) {
	res, err := verify.FunctionEnv(o.Target, environ.Sources{Files: o.EnvFiles, Pairs: o.Env, Lookup: os.LookupEnv})
	var pe *environ.PairError
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pe):
		return nil, fmt.Errorf("--env %s", pe)
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("--env-file: %w", pathErr)
	case err != nil:
		return nil, err
	}
	if t := res.Template; t != nil {
		for _, sk := range t.Skipped {
			if sk.Key == "" {
				fmt.Fprintf(o.IO.ErrOut, "fnopt: %s: the Environment of %s is %s, which only a deployment resolves: not applied (give its variables with --env or --env-file)\n", t.File, sk.Of, sk.Why)
				continue
			}
			fmt.Fprintf(o.IO.ErrOut, "fnopt: %s: %s is %s, which only a deployment resolves: not set (give it with --env %s=VALUE)\n", t.File, sk.Key, sk.Why, sk.Key)
		}
		if t.Function == "" && len(t.Functions) > 1 {
			fmt.Fprintf(o.IO.ErrOut, "fnopt: %s declares %d functions (%s), none named after the project: only its Globals' Environment applies\n", t.File, len(t.Functions), strings.Join(t.Functions, ", "))
		}
	}
	return res.Env.List(), nil
}

// PrepareOptions are how targets are prepared: memory is limited with a
// cgroup when --memory was given (and a note says when it cannot be), or
// silently where the machine allows it.
func (o *Options) PrepareOptions() verify.PrepareOptions {
	po := verify.PrepareOptions{Insecure: o.Insecure, Program: o.Main}
	cg := verify.DetectCgroups()
	if cg.Unavailable() == "" || o.MemorySet {
		po.Cgroups = cg
	}
	return po
}

// Run measures o.Target and prints the report.
func Run(ctx context.Context, o *Options) error {
	mo, err := o.MeasureOptions()
	if err != nil {
		return cmdutil.UsageError(err)
	}
	// Ctrl-C or SIGTERM stops the measurement between or within samples;
	// the function's processes and the temporary folders are still
	// removed before fnopt exits.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := newProgress(o.IO, "preparing "+o.Target)
	mo.Progress = p.samples
	v, err := verify.Verify(ctx, o.Target, o.PrepareOptions(), mo)
	p.stop()
	switch {
	case err != nil && v == nil:
		return cmdutil.UsageError(prepareError(err))
	case err != nil && ctx.Err() != nil:
		return cmdutil.UsageError(errors.New("interrupted; nothing was measured to the end"))
	case err != nil:
		return cmdutil.UsageError(err)
	}
	run := v.Run
	if !o.MemorySet {
		// Memory was limited where the machine allows it, unasked:
		// say nothing when it does not.
		run.Notes = run.NotesWithoutMemory()
	}
	rep := NewReport(run, mo, verify.ThisMachine())
	rep.Settings.MemoryLimited = run.Memory.Enforced
	rep.addCrossCheck(v.Cross)
	rep.addBudgets(v.Budgets)
	if err := writeReport(o, rep); err != nil {
		return cmdutil.UsageError(err)
	}
	if !v.Pass() {
		return cmdutil.SilentExit(cmdutil.ExitFail)
	}
	return nil
}

func writeReport(o *Options, rep *Report) error {
	if o.JSON {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	WriteText(o.IO.Out, rep)
	return nil
}
