package verifycmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/gate"
)

// awsGateSamples is the gate's cold starts per side on Lambda when
// --samples is not given: as many as the local gate takes by default
// (docs/gate.md), for well under a cent (docs/aws.md).
const awsGateSamples = 100

// awsExt is `fnopt verify --target aws`: the measurement on AWS Lambda
// itself (verify/awslambda), alone or as the gate (with gate's flags).
// It is an Extension of `fnopt verify`, tried before the local gate.
type awsExt struct {
	flags *pflag.FlagSet
	gate  *gateExt

	target      string
	region      string
	profile     string
	role        string
	concurrency int
	arch        string
	ecrRepo     string
	keep        bool
	cleanup     bool
	memory      *memoryList
}

// targets are --target's values: where to measure.
var targets = []string{"local", "aws"}

// awsOnly are the flags that mean something only with --target aws.
var awsOnly = []string{"region", "profile", "role", "concurrency", "arch", "ecr-repo", "keep", "cleanup"}

func (a *awsExt) AddFlags(f *pflag.FlagSet) {
	a.flags = f
	f.StringVar(&a.target, "target", "local", "where to measure: local (this machine, against an emulator) or aws (temporary functions on AWS Lambda, see docs/aws.md)")
	f.StringVar(&a.region, "region", "", "with --target aws: the AWS region (default AWS_REGION or the profile's)")
	f.StringVar(&a.profile, "profile", "", "with --target aws: the AWS profile of the shared config files (default AWS_PROFILE)")
	f.StringVar(&a.role, "role", "", "with --target aws: `ARN` of the temporary functions' execution role (default aws.role in fnopt.yaml)")
	f.IntVar(&a.concurrency, "concurrency", 10, "with --target aws: invocations sent at once per function and round, each a cold start")
	f.StringVar(&a.arch, "arch", "", "with --target aws: `ARCHES` to measure, comma-separated (default the project's; a zip's own)")
	f.StringVar(&a.ecrRepo, "ecr-repo", "", "with --target aws: Amazon ECR repository (`REGISTRY/NAME`) images are pushed to, authenticated with ECR's token")
	f.BoolVar(&a.keep, "keep", false, "with --target aws: keep the temporary functions instead of deleting them")
	f.BoolVar(&a.cleanup, "cleanup", false, "with --target aws: delete fnopt's temporary functions that killed runs left (older than an hour), and nothing else")
	// --memory takes a list on Lambda: one function per size.
	if m := f.Lookup("memory"); m != nil {
		a.memory = &memoryList{Value: m.Value}
		m.Value = a.memory
		m.Usage += "; with --target aws, a comma-separated list (128,512,1024) measures each"
	}
}

// Active is true with --target aws, and with a flag that needs it, so
// that Run can say so.
func (a *awsExt) Active() bool {
	if a.target != "local" || (a.memory != nil && len(a.memory.sizes) > 1) {
		return true
	}
	for _, name := range awsOnly {
		if a.flags.Changed(name) {
			return true
		}
	}
	return false
}

func (a *awsExt) Run(ctx context.Context, o *Options) error {
	switch {
	case a.target == "local":
		for _, name := range awsOnly {
			if a.flags.Changed(name) {
				return cmdutil.UsageError(fmt.Errorf("--%s needs --target aws", name))
			}
		}
		return cmdutil.UsageError(errors.New("--memory takes one size locally; a list needs --target aws"))
	case a.target != "aws":
		return cmdutil.UsageError(fmt.Errorf("--target %s: use %s", a.target, strings.Join(targets, " or ")))
	}
	// Ctrl-C or SIGTERM stops the run; the temporary functions are
	// deleted before fnopt exits.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if a.cleanup {
		return a.runCleanup(ctx, o)
	}
	ao, err := a.options(o)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	if a.gate.Active() {
		return a.runGate(ctx, o, ao)
	}
	p := newAWSProgress(o.IO)
	ao.Progress = p
	res, err := awslambda.Run(ctx, []awslambda.Source{{Label: o.Target, Path: o.Target}}, ao)
	p.stop()
	if err != nil {
		return a.runError(ctx, o, ao, res, err)
	}
	if err := writeAWSReport(o, res, ao); err != nil {
		return cmdutil.UsageError(err)
	}
	return nil
}

// options checks the flags and translates them into the library's.
func (a *awsExt) options(o *Options) (awslambda.Options, error) {
	var none awslambda.Options
	switch {
	case o.Serve:
		return none, errors.New("--serve runs the function here: it does not combine with --target aws")
	case o.ColdCache:
		return none, errors.New("--cold-cache is about this machine's page cache: it does not combine with --target aws")
	case a.keep && a.gate.Active():
		return none, errors.New("--keep does not combine with the gate flags")
	case o.SamplesAuto && !a.gate.Active():
		return none, errors.New("--samples auto measures until a comparison is decided: use it with --against or --baseline")
	}
	if err := cmdutil.CheckSamples(o.Samples); err != nil {
		return none, err
	}
	if o.Warm < 0 {
		return none, fmt.Errorf("--warm %d: must be 0 or more", o.Warm)
	}
	if a.concurrency < 1 || a.concurrency > 1000 {
		return none, fmt.Errorf("--concurrency %d: use 1 to 1000", a.concurrency)
	}
	ao := awslambda.Options{
		Account:     awslambda.AccountOptions{Region: a.region, Profile: a.profile},
		Role:        a.role,
		Program:     o.Main,
		MemoryMB:    a.memory.sizes,
		Samples:     o.Samples,
		Warm:        o.Warm,
		Concurrency: a.concurrency,
		Keep:        a.keep,
		Repository:  a.ecrRepo,
		Insecure:    o.Insecure,
		BuildLog:    o.IO.ErrOut,
	}
	if len(ao.MemoryMB) == 0 {
		ao.MemoryMB = []int{o.MemoryMB}
	}
	if a.flags.Changed("timeout") {
		ao.Timeout = o.Timeout
	}
	if a.arch != "" {
		for _, s := range strings.Split(a.arch, ",") {
			arch, err := settings.ParseArch(strings.TrimSpace(s))
			if err != nil {
				return none, fmt.Errorf("--arch: %w", err)
			}
			ao.Arches = append(ao.Arches, arch)
		}
	}
	var err error
	if ao.Event, _, err = cmdutil.ReadEventFor(o.EventFile, o.Target); err != nil {
		return none, err
	}
	if ao.Env, err = o.functionEnv(); err != nil {
		return none, err
	}
	if ao.Expect, err = cmdutil.ParseExpect(o.Expect); err != nil {
		return none, err
	}
	if err := ao.Validate(); err != nil {
		return none, flagNames(err)
	}
	return ao, nil
}

// runError reports a run that did not finish: the function's own failure
// (exit 1, with its log tail), an interruption, or an error that says
// what to do (exit 2).
func (a *awsExt) runError(ctx context.Context, o *Options, ao awslambda.Options, res *awslambda.Result, err error) error {
	if res != nil && len(res.Kept) > 0 && !a.keep {
		fmt.Fprintf(o.IO.ErrOut, "could not delete %s: delete them by hand, or run fnopt verify --target aws --cleanup in an hour\n", strings.Join(res.Kept, ", "))
	}
	var fe *awslambda.FunctionError
	if errors.As(err, &fe) {
		if tail := strings.TrimSpace(fe.Log); tail != "" {
			fmt.Fprintf(o.IO.ErrOut, "--- log tail of %s ---\n%s\n---\n", fe.Function, tail)
		}
		if o.JSON && res != nil && !a.gate.Active() {
			// As locally, --json still prints the document: ok false and
			// how the function failed.
			if werr := writeAWSFailure(o, res, ao, fe); werr != nil {
				return cmdutil.UsageError(werr)
			}
		}
		return cmdutil.FailError(fmt.Errorf("%w; its log tail is above: fix the function, then run again", fe))
	}
	if ctx.Err() != nil {
		return cmdutil.UsageError(errors.New("interrupted; the temporary functions were deleted"))
	}
	return cmdutil.UsageError(awsError(err))
}

// runCleanup deletes the leftovers of killed runs.
func (a *awsExt) runCleanup(ctx context.Context, o *Options) error {
	res, err := awslambda.Cleanup(ctx, awslambda.AccountOptions{Region: a.region, Profile: a.profile}, awslambda.Backoff{}, time.Now())
	if res != nil {
		for _, n := range res.Deleted {
			fmt.Fprintf(o.IO.Out, "deleted %s\n", n)
		}
		for _, n := range res.Young {
			fmt.Fprintf(o.IO.Out, "kept %s: younger than an hour, a run may be using it\n", n)
		}
		if err == nil {
			fmt.Fprintf(o.IO.Out, "%d leftover functions deleted in %s (account %s)\n", len(res.Deleted), res.Region, res.Account)
		}
	}
	if err != nil {
		return cmdutil.UsageError(awsError(err))
	}
	return nil
}

// runGate is the gate on Lambda: --against REV, --baseline, --save-baseline.
func (a *awsExt) runGate(ctx context.Context, o *Options, ao awslambda.Options) error {
	gopts, format, err := a.gate.options(o, awsGateSamples)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	ao.Samples = o.Samples
	if o.Samples < gate.MinSamples {
		return cmdutil.UsageError(fmt.Errorf("--samples %d: the gate needs at least %d per side", o.Samples, gate.MinSamples))
	}
	p := newAWSProgress(o.IO)
	ao.Progress = p
	var run *gate.AWSRun
	if a.gate.against != "" {
		if st, err := os.Stat(o.Target); err != nil || !st.IsDir() {
			p.stop()
			return cmdutil.UsageError(fmt.Errorf("--against needs a project folder as TARGET, not %s", o.Target))
		}
		run, err = gate.RunAgainstAWS(ctx, a.gate.against, gopts, ao)
	} else {
		run, err = gate.RunBaselineAWS(ctx, gate.BaselineOptions{Options: gopts, Compare: a.gate.baseline, Save: a.gate.saveBaseline}, ao)
	}
	p.stop()
	if run != nil && run.Saved != nil {
		fmt.Fprintf(o.IO.ErrOut, "saved baseline %s (%d samples, AWS Lambda)\n", a.gate.saveBaseline, len(run.Saved.Samples))
	}
	if err != nil {
		var res *awslambda.Result
		if run != nil {
			res = run.Lambda
		}
		return a.runError(ctx, o, ao, res, againstError(baselineError(err)))
	}
	if run.Result == nil {
		return writeAWSReport(o, run.Lambda, ao)
	}
	return a.gate.report(o, run.Result, gopts.Metric, format)
}
