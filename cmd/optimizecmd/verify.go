package optimizecmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fnopt/fnopt/optimize/artifact"
	"github.com/fnopt/fnopt/optimize/inittrace"
	"github.com/fnopt/fnopt/optimize/project"
	"github.com/fnopt/fnopt/optimize/settings"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// VerifyReport compares the function built before and after the plan.
type VerifyReport struct {
	// Arch is what both were built for: this machine's architecture, so
	// that both run natively; an architecture change is not measured.
	Arch    settings.Arch `json:"arch"`
	Samples int           `json:"samples"`
	Before  Side          `json:"before"`
	After   Side          `json:"after"`
}

// Side is one build's measured figures.
type Side struct {
	BinaryBytes int64         `json:"binary_bytes"`
	ZipBytes    int64         `json:"zip_bytes"`
	Init        stats.Summary `json:"init_ms"`
	ColdStart   stats.Summary `json:"cold_start_ms"`
	MaxRSS      stats.Summary `json:"max_rss_bytes"`
}

// Compare builds the project in dir as it is and as the plan would leave
// it (in temporary copies: dir is never written), then measures both with
// verify, interleaved in one run.
func Compare(ctx context.Context, dir string, plan *project.Plan, samples int, env []string) (*VerifyReport, error) {
	changes, err := plan.Changes()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "fnopt-optimize-verify-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	rep := &VerifyReport{Arch: settings.HostArch(), Samples: samples}
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
		bin, err := project.BuildForHost(ctx, src, filepath.Join(tmp, side.name, "out"), env)
		if err != nil {
			return nil, fmt.Errorf("building %s the changes: %w", side.name, err)
		}
		st, err := os.Stat(bin)
		if err != nil {
			return nil, err
		}
		side.out.BinaryBytes = st.Size()
		if side.out.ZipBytes, err = artifact.WriteZip(bin, filepath.Join(tmp, side.name, "function.zip")); err != nil {
			return nil, fmt.Errorf("zipping the %s build: %w", side.name, err)
		}
		t, err := verify.PrepareBootstrap(bin, verify.PrepareOptions{})
		if err != nil {
			return nil, err
		}
		t.Name = side.name
		targets = append(targets, t)
	}
	runs, err := verify.Measure(ctx, targets, verify.Options{Samples: samples})
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
	return rep, nil
}

func verifyPlan(ctx context.Context, opts *Options, plan *project.Plan) (*VerifyReport, error) {
	return Compare(ctx, opts.Dir, plan, opts.Samples, nil)
}

func printVerify(w io.Writer, r *VerifyReport) {
	fmt.Fprintf(w, "\nMeasured (both built for %s, %d interleaved cold starts each):\n", r.Arch, r.Samples)
	fmt.Fprintf(w, "    %-18s %14s %14s %8s\n", "", "before", "after", "ratio")
	row := func(name string, b, a float64, unit string) {
		ratio := "-"
		if b > 0 {
			ratio = fmt.Sprintf("%.2fx", a/b)
		}
		fmt.Fprintf(w, "    %-18s %14s %14s %8s\n", name, fmtVal(b, unit), fmtVal(a, unit), ratio)
	}
	row("binary", float64(r.Before.BinaryBytes), float64(r.After.BinaryBytes), "B")
	row("zip", float64(r.Before.ZipBytes), float64(r.After.ZipBytes), "B")
	row("init p50", r.Before.Init.P50, r.After.Init.P50, "ms")
	row("cold start p50", r.Before.ColdStart.P50, r.After.ColdStart.P50, "ms")
	row("max RSS p50", r.Before.MaxRSS.P50, r.After.MaxRSS.P50, "B")
}

func fmtVal(v float64, unit string) string {
	if unit == "ms" {
		return fmt.Sprintf("%.2f ms", v)
	}
	switch {
	case v >= 1<<20:
		return fmt.Sprintf("%.2f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

func printInit(w io.Writer, r *inittrace.Report) {
	pkg := r.Module
	if r.Package != "." {
		pkg = r.Package
	}
	fmt.Fprintf(w, "\nInit trace of %s (%d packages, %.2f ms and %.0f KiB at init; own code %.2f ms):\n",
		pkg, r.Packages, r.TotalMs, r.TotalKiB, r.OwnMs)
	for _, e := range r.Top {
		own := ""
		if e.Own {
			own = "  (yours)"
		}
		fmt.Fprintf(w, "    %8.3f ms %10d B %7d allocs  %s%s\n", e.ClockMs, e.Bytes, e.Allocs, e.Package, own)
		for _, s := range e.Sites {
			fmt.Fprintf(w, "        %s:%d  %s: %s\n", s.File, s.Line, s.Where, s.What)
			fmt.Fprintf(w, "            → %s\n", s.Suggestion)
		}
	}
}
