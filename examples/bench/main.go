// Command bench is fnopt's cold-start benchmark (`make bench`). It builds
// the Go official hello plainly (as tutorials and SAM's Go builder do) and
// with fnopt's tuned settings, the Go and Rust minimal hellos, and floors
// (a C program that does the least a custom runtime can, linked each way a
// function can be: glibc dynamic, glibc static, musl static; and the same
// in Go), measures them interleaved in one run with verify.Measure, and
// writes a Markdown table (results.md), the figures (results.json) and a
// chart (chart.svg) to -out. Every row is compared with Go plain, with the
// floor of its own linkage and, for Go, with the Go floor; the targets are
// ratios of init medians measured in that run.
//
//	go run ./examples/bench -out bench-results
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/fnopt/fnopt/internal/atomicfile"
	"github.com/fnopt/fnopt/verify"
)

type options struct {
	out      string
	examples string
	samples  int
	warm     int
	warmOnly bool
	verbose  bool
	strict   bool
	short    bool
	progress bool // show progress (stderr is a terminal)
}

func main() {
	o := options{}
	flag.StringVar(&o.out, "out", "bench-results", "folder for results.md, results.json and chart.svg")
	flag.StringVar(&o.examples, "examples", "", "the repository's examples folder (default: found from the working directory)")
	flag.IntVar(&o.samples, "samples", 150, "cold starts per variant and page-cache regime")
	flag.IntVar(&o.warm, "warm", 10, "warm invocations after each cold start")
	flag.BoolVar(&o.warmOnly, "warm-only", false, "skip the cold page cache pass (where evicting files is not possible)")
	flag.BoolVar(&o.verbose, "v", false, "show compiler output")
	flag.BoolVar(&o.strict, "strict", false, "exit 1 when a target is missed")
	flag.BoolVar(&o.short, "short", false, "print only variant, zip and init p50 with ratios (the files are written in full)")
	flag.Parse()
	o.progress = term.IsTerminal(int(os.Stderr.Fd()))
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q: see -help\n", flag.Arg(0))
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, o, os.Stdout, os.Stderr)
	if err != nil {
		// A compiler's output travels in its error (build.CompileError):
		// show it above the line that points at it, as fnopt does.
		var d interface{ Details() string }
		if errors.As(err, &d) && d.Details() != "" {
			fmt.Fprint(os.Stderr, d.Details())
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	stop()
	os.Exit(code)
}

// run builds, measures and reports; the code is the exit status: 0 done,
// 1 a function failed or (with -strict) a target was missed, 2 the
// benchmark could not run.
func run(ctx context.Context, o options, stdout, stderr io.Writer) (int, error) {
	if o.samples < 6 {
		return 2, fmt.Errorf("-samples %d: use at least 6 (the median's confidence interval needs them)", o.samples)
	}
	if o.examples == "" {
		dir, err := findExamples()
		if err != nil {
			return 2, err
		}
		o.examples = dir
	}
	tmp, err := os.MkdirTemp("", "fnopt-bench-")
	if err != nil {
		return 2, err
	}
	defer os.RemoveAll(tmp)
	cache := ""
	if c, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(c, "fnopt-bench")
	}
	w := &workspace{examples: o.examples, dir: tmp, cache: cache}
	if o.verbose {
		w.log = stderr
	}

	fmt.Fprintln(stderr, "bench: building the variants (the first run compiles serde twice: about a minute)")
	t0 := time.Now()
	built, err := buildAll(ctx, w, variants())
	if err != nil {
		return 2, err
	}
	fmt.Fprintf(stderr, "bench: built in %.0f s\n", time.Since(t0).Seconds())

	targets := make([]*verify.Target, 0, len(built))
	defer func() {
		for _, t := range targets {
			t.Close()
		}
	}()
	for _, b := range built {
		t, err := verify.PrepareBootstrap(b.Bootstrap, verify.PrepareOptions{})
		if err != nil {
			return 2, fmt.Errorf("%s: %w", b.Name, err)
		}
		t.Name = b.Name
		targets = append(targets, t)
	}

	if code, err := checkAnswers(ctx, built, targets); err != nil {
		return code, err
	}

	rep := &Report{
		Schema:    "fnopt.bench/v2",
		Date:      time.Now().UTC(),
		Machine:   verify.ThisMachine(),
		Go:        runtime.Version(),
		Rust:      rustVersion(ctx),
		Samples:   o.samples,
		Warm:      o.warm,
		Artifacts: newArtifacts(built),
	}
	// The cold page cache comes first: it is how a function starts on
	// Lambda the first time, with its code just fetched, and where the
	// size of the binary counts. The warm pass shows the start-up work
	// alone.
	regimes := []struct {
		name string
		cold bool
	}{
		{"Cold page cache (each bootstrap evicted before each sample, as on a first start)", true},
		{"Warm page cache (bootstrap already in memory)", false},
	}
	for _, rg := range regimes {
		if o.warmOnly && rg.cold {
			continue
		}
		t0 = time.Now()
		fmt.Fprintf(stderr, "bench: %s\n", rg.name)
		runs, err := verify.Measure(ctx, targets, verify.Options{
			Samples:   o.samples,
			Warm:      o.warm,
			ColdCache: rg.cold,
			Progress:  progress(stderr, o.progress),
		})
		if o.progress {
			fmt.Fprintln(stderr)
		}
		if err != nil {
			return 2, err
		}
		for _, r := range runs {
			if r.Failure != nil {
				return 1, fmt.Errorf("%v\n%s", r.Failure, r.Failure.Output)
			}
		}
		fmt.Fprintf(stderr, "bench: measured in %.0f s\n", time.Since(t0).Seconds())
		g, err := newRegime(rg.name, rg.cold, built, runs)
		if err != nil {
			return 2, err
		}
		rep.Regimes = append(rep.Regimes, g)
	}

	if err := write(o.out, rep); err != nil {
		return 2, err
	}
	show := rep.WriteMarkdown
	if o.short {
		show = rep.WriteShort
	}
	if err := show(stdout); err != nil {
		return 2, err
	}
	fmt.Fprintf(stderr, "bench: wrote %s\n", filepath.Join(o.out, "{results.md,results.json,chart.svg}"))
	if o.strict {
		for _, g := range rep.Regimes {
			for _, t := range g.Targets {
				if !t.Met {
					return 1, fmt.Errorf("target missed (%s page cache): %s %.2f× > %.2f×", regimeKey(g.ColdCache), t.Name, t.Measured, t.Limit)
				}
			}
		}
	}
	return 0, nil
}

// checkAnswers invokes each target once with the default event and checks
// its answer: 1 for a wrong answer, 2 when it could not be measured.
func checkAnswers(ctx context.Context, built []Built, targets []*verify.Target) (int, error) {
	for i, t := range targets {
		exp, err := verify.ParseExpect(built[i].Expect)
		if err != nil {
			return 2, fmt.Errorf("%s: %w", t.Name, err)
		}
		runs, err := verify.Measure(ctx, []*verify.Target{t}, verify.Options{Samples: 1, Expect: exp})
		if err != nil {
			return 2, err
		}
		if f := runs[0].Failure; f != nil {
			return 1, fmt.Errorf("%v\n%s", f, f.Output)
		}
	}
	return 0, nil
}

// write saves the report in dir, each file atomically.
func write(dir string, rep *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	svg, err := chartSVG(rep)
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"results.md": md.Bytes(), "results.json": append(js, '\n'), "chart.svg": svg} {
		if err := atomicfile.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// rustVersion is what `rustc --version` says, or "" without rustc.
func rustVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "rustc", "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// progress rewrites one line with how many samples are done, every 20,
// when stderr is a terminal.
func progress(w io.Writer, on bool) func(done, total int) {
	if !on {
		return nil
	}
	return func(done, total int) {
		if done%20 == 0 || done == total {
			fmt.Fprintf(w, "\rbench: sample %d/%d", done, total)
		}
	}
}

// findExamples walks up from the working directory to the repository
// root (the folder whose examples/floor/floor.c exists).
func findExamples() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		ex := filepath.Join(dir, "examples")
		if _, err := os.Stat(filepath.Join(ex, "floor", "floor.c")); err == nil {
			return ex, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("examples/floor/floor.c not found above the working directory: run from the fnopt repository or pass -examples")
		}
		dir = parent
	}
}
