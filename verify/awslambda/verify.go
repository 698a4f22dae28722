package awslambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// Options say what Run deploys and how it measures. Zero values take the
// defaults named on each field.
type Options struct {
	// Account chooses the AWS account and region.
	Account AccountOptions
	// Role is the execution role of the temporary functions (an IAM role
	// ARN); "" takes a project's fnopt.yaml aws.role.
	Role string
	// MemoryMB are the memory sizes to measure (default 128).
	MemoryMB []int
	// Program overrides a project's main package (Go) or Cargo binary
	// target (Rust), as fnopt.yaml's build.main and build.bin name it;
	// "" keeps fnopt.yaml's.
	Program string
	// Arches are the architectures to measure. Default: a project's own
	// (fnopt.yaml), a zip's or image's bootstrap's. A zip or image can
	// only run as what it is built for.
	Arches []settings.Arch
	// Samples is the number of cold starts per configuration (default
	// 30); Warm the batches of warm invocations after each round's cold
	// one (default 0).
	Samples, Warm int
	// Concurrency is the number of invocations sent at once per function
	// and round (default 10): each is a cold start.
	Concurrency int
	// Event is every invocation's payload (default verify.DefaultEvent);
	// Expect, when set, checks every answer.
	Event  []byte
	Expect *verify.Expect
	// Env are the functions' own environment variables (KEY=VALUE,
	// checked by internal/function/environ), set beside fnopt's nonce.
	Env []string
	// Timeout is the functions' timeout (default 30 s; whole seconds).
	Timeout time.Duration
	// Keep leaves the temporary functions in place; their names are in
	// Result.Kept.
	Keep bool
	// Repository is an Amazon ECR repository (REGISTRY/NAME) that images
	// are pushed to; images need one.
	Repository string
	// Insecure allows plain HTTP to a registry on loopback.
	Insecure bool
	// BuildLog receives compiler output of project builds; BuildEnv is
	// added to the compiler's environment.
	BuildLog io.Writer
	BuildEnv []string
	// Backoff says how throttled and conflicting calls are retried and
	// how often a function's state is polled.
	Backoff Backoff
	// Progress hears what Run does: a stage, then cold samples done.
	Progress Progress
}

// Progress hears what a run is doing, for a terminal's progress display.
type Progress interface {
	Stage(what string)
	Samples(done, total int)
}

func (o Options) withDefaults() Options {
	if len(o.MemoryMB) == 0 {
		o.MemoryMB = []int{128}
	}
	if o.Samples <= 0 {
		o.Samples = 30
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 10
	}
	if len(o.Event) == 0 {
		o.Event = []byte(verify.DefaultEvent)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	o.Backoff = o.Backoff.withDefaults()
	return o
}

// Validate checks the options that do not need AWS to be checked.
func (o Options) Validate() error {
	for _, m := range o.MemoryMB {
		if m < 128 || m > 10240 {
			return &OptionError{Option: "memory", Value: fmt.Sprintf("%d MB", m), Reason: "Lambda allows 128 to 10240 MB"}
		}
	}
	if o.Concurrency < 0 || o.Concurrency > 1000 {
		return &OptionError{Option: "concurrency", Value: fmt.Sprint(o.Concurrency), Reason: "use 1 to 1000"}
	}
	if o.Timeout > 0 && (o.Timeout < time.Second || o.Timeout > 15*time.Minute) {
		return &OptionError{Option: "timeout", Value: o.Timeout.String(), Reason: "Lambda allows 1 s to 15 min"}
	}
	return nil
}

// OptionError is an option out of range; Option names the Options field
// as a command's flag would ("memory").
type OptionError struct {
	Option, Value, Reason string
}

func (e *OptionError) Error() string { return fmt.Sprintf("%s %s: %s", e.Option, e.Value, e.Reason) }

// Source is one function to deploy: a project folder, a deployment zip or
// an image reference, and its label in reports.
type Source struct {
	Label string
	Path  string
}

// Configuration is one temporary function of the run: a source at one
// architecture and memory size, and what was measured of it.
type Configuration struct {
	// Label names the configuration in reports ("arm64 128 MB", with the
	// source's label when a run has several sources).
	Label    string        `json:"label"`
	Source   string        `json:"source"`
	Function string        `json:"function"`
	Arch     settings.Arch `json:"arch"`
	MemoryMB int           `json:"memory_mb"`
	// Package is "Zip" or "Image", as Lambda names them; Image the
	// image's reference by digest.
	Package string `json:"package"`
	Image   string `json:"image,omitempty"`
	// Artifacts are the sizes of what was deployed.
	Artifacts []verify.Artifact `json:"artifacts"`
	// Samples are the cold starts; WarmMs the Duration of warm
	// invocations.
	Samples []Sample  `json:"samples"`
	WarmMs  []float64 `json:"warm_ms,omitempty"`
	// Invocations counts every invocation sent (and billed).
	Invocations int `json:"invocations"`
	// Failure is the function's own failure, which stopped the run.
	Failure *FunctionError `json:"-"`
	// Cost is what it costs at the list price.
	Cost Cost `json:"cost"`

	billed, warmBilled []float64
}

// VerifySamples are the configuration's samples as verify's, for the
// statistics and the gate.
func (c *Configuration) VerifySamples() []verify.Sample {
	out := make([]verify.Sample, len(c.Samples))
	for i, s := range c.Samples {
		out[i] = s.Sample
	}
	return out
}

// Result is what a run measured on Lambda.
type Result struct {
	// Account and Region are where the functions ran.
	Account, Region string
	// Configurations are in the order of the matrix: source, then
	// architecture, then memory size.
	Configurations []*Configuration
	// Rounds is how many rounds were run; Throttled and Conflicts how
	// many calls were retried because Lambda throttled them or an update
	// was in progress.
	Rounds               int
	Throttled, Conflicts int64
	// Kept are the functions left in place (Options.Keep, or those that
	// could not be deleted).
	Kept []string
}

// Run deploys every source at every architecture and memory size as a
// temporary function, measures them interleaved in rounds, and deletes
// them (unless o.Keep), also when it fails or ctx ends. A function that
// fails is a *FunctionError, returned with the Result measured until
// then; any other error may come with a partial Result too. Cleanup of
// the functions is reported in Result.Kept and joined to the error.
func Run(ctx context.Context, sources []Source, o Options) (res *Result, err error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	stage := func(s string) {
		if o.Progress != nil {
			o.Progress.Stage(s)
		}
	}
	stage("connecting to AWS")
	acct, err := Connect(ctx, o.Account)
	if err != nil {
		return nil, err
	}
	res = &Result{Account: acct.ID, Region: acct.Region}

	role, err := executionRole(sources, o.Role)
	if err != nil {
		return nil, err
	}

	// Deferred in this order, the functions are deleted first, then the
	// images they run (and the build folders): whatever happens from
	// here on, a failure to delete is joined to the run's error. Kept
	// functions keep their images.
	ws := &workspace{}
	defer ws.close()
	defer func() {
		if len(ws.pushed) == 0 || o.Keep {
			return
		}
		if derr := ws.deleteImages(ctx, acct); derr != nil {
			err = errors.Join(err, derr)
		}
	}()
	stats := &retryStats{}
	fl := &fleet{acct: acct, backoff: o.Backoff, stats: stats}
	defer func() {
		if o.Keep {
			res.Kept = fl.Names()
			return
		}
		stage("deleting the temporary functions")
		left, derr := fl.deleteAll(ctx)
		res.Kept = left
		if derr != nil {
			err = errors.Join(err, derr)
		}
	}()

	var arts []*artifact
	for _, src := range sources {
		stage("preparing " + src.Path)
		a, err := ws.prepare(ctx, acct, src, o)
		if err != nil {
			return res, err
		}
		arts = append(arts, a...)
	}

	for _, a := range arts {
		for _, m := range o.MemoryMB {
			label := fmt.Sprintf("%s %d MB", a.arch, m)
			if len(sources) > 1 {
				label = a.source.Label + ", " + label
			}
			res.Configurations = append(res.Configurations, &Configuration{
				Label: label, Source: a.source.Label, Arch: a.arch, MemoryMB: m,
				Package: a.packageType(), Image: a.code.imageURI, Artifacts: a.sizes,
			})
		}
	}
	stage(fmt.Sprintf("deploying %d temporary functions", len(res.Configurations)))
	fns, err := deployAll(ctx, fl, arts, res.Configurations, o, role)
	if err != nil {
		return res, err
	}
	stage(fmt.Sprintf("measuring %d cold starts each", o.Samples))
	mo := measureOptions{samples: o.Samples, warm: o.Warm, concurrency: o.Concurrency, event: o.Event, expect: o.Expect}
	if o.Progress != nil {
		mo.progress = o.Progress.Samples
	}
	res.Rounds, err = measure(ctx, fl, fns, res.Configurations, mo)
	res.Throttled, res.Conflicts = stats.throttled.Load(), stats.conflicts.Load()
	for _, c := range res.Configurations {
		c.Cost = costOf(c)
	}
	return res, err
}

// executionRole is the role the temporary functions run with: the one
// given, else the aws.role of the projects' fnopt.yaml (the last that
// names one: for a gate run, the working tree's). It is checked before
// anything is built.
func executionRole(sources []Source, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	role := ""
	for _, src := range sources {
		if st, err := os.Stat(src.Path); err != nil || !st.IsDir() {
			continue
		}
		cfg, err := config.Load(src.Path)
		if err != nil {
			return "", err
		}
		if cfg.AWS.Role != "" {
			role = cfg.AWS.Role
		}
	}
	if role == "" {
		return "", ErrNoRole
	}
	return role, nil
}

// deployAll creates one function per configuration, all at once.
func deployAll(ctx context.Context, fl *fleet, arts []*artifact, confs []*Configuration, o Options, role string) ([]*function, error) {
	fns := make([]*function, len(confs))
	errs := make([]error, len(confs))
	now := time.Now()
	var wg sync.WaitGroup
	i := 0
	for _, a := range arts {
		for _, m := range o.MemoryMB {
			j := i
			s := spec{arch: a.arch, memoryMB: m, code: a.code, role: role, timeout: o.Timeout, env: o.Env}
			wg.Go(func() {
				fn, err := fl.create(ctx, s, now)
				if err != nil {
					errs[j] = err
					return
				}
				fns[j] = fn
				confs[j].Function = fn.name
			})
			i++
		}
	}
	wg.Wait()
	// The first error says it: the others are alike (the same account,
	// the same role), and a one-line error stays one line.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return fns, nil
}

// costOf prices a configuration at the list price.
func costOf(c *Configuration) Cost {
	p := PriceOf(c.Arch)
	cost := Cost{Price: p, AsOf: PricesAsOf, Region: PricesRegion}
	for _, b := range c.billed {
		cost.RunGBSeconds += GBSeconds(c.MemoryMB, b)
		cost.RunUSD += p.Invocation(c.MemoryMB, b)
	}
	var cold []float64
	for _, s := range c.Samples {
		cold = append(cold, s.BilledMs)
	}
	if len(cold) > 0 {
		cost.ColdStartUSD = p.Invocation(c.MemoryMB, median(cold))
	}
	warm := c.warmBilled
	if len(warm) == 0 {
		for _, s := range c.Samples {
			warm = append(warm, s.FirstInvokeMs)
		}
	}
	if len(warm) > 0 {
		cost.WarmMillionUSD = 1e6 * p.Invocation(c.MemoryMB, median(warm))
	}
	return cost
}

func median(v []float64) float64 {
	return stats.Summarize(v).P50
}

// sortedArches lists arches in a stable order (arm64 first, as fnopt's
// default).
func sortedArches(a []settings.Arch) []settings.Arch {
	out := slices.Clone(a)
	sort.SliceStable(out, func(i, j int) bool { return out[i] == settings.ARM64 && out[j] != settings.ARM64 })
	return slices.Compact(out)
}
