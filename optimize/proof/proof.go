// Package proof measures what an optimisation plan brings: it builds a
// function as it is and as the plan would leave it, in temporary copies,
// and measures both with verify in one interleaved run.
package proof

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/optimize/project"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// Report compares the function built before and after a plan.
type Report struct {
	// Arch is what both were built for: this machine's architecture, so
	// that both run natively; an architecture change is not measured.
	Arch    settings.Arch `json:"arch"`
	Samples int           `json:"samples"`
	// ColdCache is set when the binaries were evicted from the page cache
	// before each cold start, as on a fresh Lambda host.
	ColdCache bool `json:"cold_cache"`
	Before    Side `json:"before"`
	After     Side `json:"after"`
	// Cross is set when the plan changes the architecture: the after
	// build for that architecture, run once under emulation.
	Cross *CrossCheck `json:"cross,omitempty"`
}

// Side is one build's measured figures.
type Side struct {
	BinaryBytes int64         `json:"binary_bytes"`
	ZipBytes    int64         `json:"zip_bytes"`
	Init        stats.Summary `json:"init_ms"`
	ColdStart   stats.Summary `json:"cold_start_ms"`
	MaxRSS      stats.Summary `json:"max_rss_bytes"`
}

// Options say how Compare builds and measures.
type Options struct {
	// Samples is the number of cold starts per side (default 10).
	Samples int
	// ColdCache evicts each binary from the page cache before every cold
	// start, so that reading it from disk is part of the measurement.
	ColdCache bool
	// BuildEnv is added to the compilers' environment.
	BuildEnv []string
	// Event is the payload of every invocation (default verify's).
	Event []byte
	// Progress, when set, is called after each cold start.
	Progress func(done, total int)
}

// Compare builds the project in dir as it is and as the plan would leave
// it (in temporary copies: dir is never written), then measures both with
// verify, interleaved in one run.
func Compare(ctx context.Context, dir string, plan *project.Plan, opts Options) (*Report, error) {
	samples, env := opts.Samples, opts.BuildEnv
	if samples <= 0 {
		samples = 10
	}
	changes, err := plan.Changes()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "fnopt-optimize-verify-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	rep := &Report{Arch: settings.HostArch(), Samples: samples, ColdCache: opts.ColdCache}
	var targets []*verify.Target
	defer func() {
		for _, t := range targets {
			t.Close()
		}
	}()
	for _, side := range []struct {
		name    string
		changes []project.FileChange
		out     *Side
	}{{"before", nil, &rep.Before}, {"after", changes, &rep.After}} {
		src := filepath.Join(tmp, side.name, "src")
		if err := project.CopyTree(dir, src, side.changes); err != nil {
			return nil, err
		}
		res, err := produce(ctx, src, filepath.Join(tmp, side.name, "out"), plan, settings.HostArch(), env)
		if err != nil {
			return nil, fmt.Errorf("building %s the changes: %w", side.name, err)
		}
		side.out.BinaryBytes, side.out.ZipBytes = res.Bootstrap.Bytes, res.Zip.Bytes
		t, err := verify.PrepareBootstrap(res.Bootstrap.Path, verify.PrepareOptions{})
		if err != nil {
			return nil, err
		}
		t.Name = side.name
		targets = append(targets, t)
	}
	runs, err := verify.Measure(ctx, targets, verify.Options{Samples: samples, ColdCache: opts.ColdCache, Event: opts.Event, Progress: opts.Progress})
	if err != nil {
		return nil, err
	}
	for i, side := range []*Side{&rep.Before, &rep.After} {
		if runs[i].Failure != nil {
			return nil, fmt.Errorf("the %s build failed to start: %v", runs[i].Target.Name, runs[i].Failure)
		}
		side.Init = stats.Summarize(verify.Values(runs[i].Samples, verify.MetricInit))
		side.ColdStart = stats.Summarize(verify.Values(runs[i].Samples, verify.MetricColdStart))
		side.MaxRSS = stats.Summarize(verify.Values(runs[i].Samples, verify.MetricMaxRSS))
	}
	if arch := targetArch(plan); arch != "" && arch != settings.HostArch() {
		rep.Cross = crossCheck(ctx, filepath.Join(tmp, "after"), plan, arch, opts)
	}
	return rep, nil
}

// CrossCheck is the plan's build for the architecture it moves to, run
// once under emulation: proof that what ships still starts and answers,
// not a timing (emulation is far slower).
type CrossCheck struct {
	Arch        settings.Arch `json:"arch"`
	BinaryBytes int64         `json:"binary_bytes,omitempty"`
	ZipBytes    int64         `json:"zip_bytes,omitempty"`
	// Answered is true when the function answered an invocation.
	Answered bool `json:"answered"`
	// Failure says how it failed; Skipped why it was not run.
	Failure string `json:"failure,omitempty"`
	Skipped string `json:"skipped,omitempty"`
}

// targetArch is the architecture the plan moves the function to, or "".
func targetArch(plan *project.Plan) settings.Arch {
	for _, f := range plan.Applicable() {
		if f.ID == "arch-arm64" && plan.Project.Language == "go" {
			return settings.ARM64
		}
	}
	return ""
}

// produce builds the project copy in src into out/bootstrap and
// out/function.zip with dist.Produce, the one producer of artifacts, but
// compiled by the project's own build (its Makefile's or scripts' flags,
// repeated by project.BuildFor): the proof measures what the project
// builds before and after the plan, not fnopt's tuned build.
func produce(ctx context.Context, src, out string, plan *project.Plan, arch settings.Arch, env []string) (*dist.Result, error) {
	cfg := &config.Config{Name: filepath.Base(src), Language: config.Language(plan.Project.Language), Arch: arch, Package: config.Zip}
	return dist.Produce(ctx, src, dist.Options{Config: cfg, Arch: arch, Package: config.Zip, OutDir: out, Env: env, Compile: projectBuild})
}

// projectBuild is a dist.CompileFunc that runs the project's own build.
func projectBuild(ctx context.Context, dir string, _ *config.Config, o build.Options) (*build.Result, error) {
	bin, err := project.BuildFor(ctx, dir, o.OutDir, o.Arch, o.Env)
	if err != nil {
		return nil, err
	}
	// dist takes the bootstrap from OutDir/bootstrap.
	want := filepath.Join(o.OutDir, settings.Handler)
	if bin != want {
		if err := os.Rename(bin, want); err != nil {
			return nil, fmt.Errorf("moving the build into place: %w", err)
		}
	}
	return &build.Result{Bootstrap: want, Arch: o.Arch}, nil
}

func crossCheck(ctx context.Context, after string, plan *project.Plan, arch settings.Arch, opts Options) *CrossCheck {
	cc := &CrossCheck{Arch: arch}
	if verify.QemuPath(arch) == "" {
		cc.Skipped = "no qemu-aarch64-static to run it (Debian package qemu-user-static)"
		return cc
	}
	res, err := produce(ctx, filepath.Join(after, "src"), filepath.Join(after, "cross"), plan, arch, opts.BuildEnv)
	if err != nil {
		cc.Failure = err.Error()
		return cc
	}
	cc.BinaryBytes, cc.ZipBytes = res.Bootstrap.Bytes, res.Zip.Bytes
	t := &verify.Target{Name: "after", CrossBootstrap: res.Bootstrap.Path, CrossArch: arch}
	cr := verify.CrossCheck(ctx, t, verify.Options{Event: opts.Event})
	switch {
	case !cr.Ran():
		cc.Skipped = "verify could not run it"
	case cr.Err != nil:
		cc.Failure = cr.Err.Error()
	default:
		cc.Answered = true
	}
	return cc
}
