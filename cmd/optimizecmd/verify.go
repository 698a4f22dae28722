package optimizecmd

import (
	"fmt"
	"io"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/optimize/inittrace"
	"github.com/fnopt/fnopt/optimize/proof"
)

// proofOptions are --verify's measurement settings, with progress on a
// terminal.
func proofOptions(opts *Options) (proof.Options, error) {
	po := proof.Options{Samples: opts.Samples, ColdCache: opts.ColdCache}
	if err := cmdutil.CheckSamples(opts.Samples); err != nil {
		return po, err
	}
	ev, err := cmdutil.ReadEvent(opts.EventFile)
	if err != nil {
		return po, err
	}
	po.Event = ev
	if opts.IO.ShowProgress() {
		fmt.Fprintln(opts.IO.ErrOut, "building the function as it is and as the plan leaves it...")
		po.Progress = func(done, total int) {
			fmt.Fprintf(opts.IO.ErrOut, "\rmeasuring cold starts %d/%d", done, total)
			if done == total {
				fmt.Fprintln(opts.IO.ErrOut)
			}
		}
	}
	return po, nil
}

func printVerify(w io.Writer, r *proof.Report) {
	cache := "warm page cache"
	if r.ColdCache {
		cache = "binaries evicted from the page cache before each start"
	}
	fmt.Fprintf(w, "\nMeasured (both built for %s, %d interleaved cold starts each, %s):\n", r.Arch, r.Samples, cache)
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
	if c := r.Cross; c != nil {
		switch {
		case c.Answered:
			fmt.Fprintf(w, "    the %s build (%s, zip %s) answered an invocation under qemu\n", c.Arch, fmtVal(float64(c.BinaryBytes), "B"), fmtVal(float64(c.ZipBytes), "B"))
		case c.Skipped != "":
			fmt.Fprintf(w, "    the %s build was not run: %s\n", c.Arch, c.Skipped)
		default:
			fmt.Fprintf(w, "    the %s build FAILED: %s\n", c.Arch, c.Failure)
		}
	}
}

func fmtVal(v float64, unit string) string {
	if unit == "ms" {
		return fmt.Sprintf("%.2f ms", v)
	}
	return bytesize.Float(v)
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
