// Package inittrace measures what a Go function costs before its handler
// runs: it builds the function, runs it once with GODEBUG=inittrace=1 and
// reads the runtime's per-package report of init time and allocations.
// For the heaviest of the user's own packages it then points at the work
// done at init (init functions and package-level variable initialisers)
// with go/packages, so that it can be deferred.
package inittrace

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/procgroup"
)

// Options say how the function is built and run.
type Options struct {
	// Package is the main package to build, relative to the module
	// (default: the module root if it is a main package, else the first
	// main package found).
	Package string
	// Timeout bounds the traced run (default 20 s): the process is killed
	// then, and what it reported until then is used.
	Timeout time.Duration
	// Top is how many packages are reported (default 10).
	Top int
}

// Report is the result of one traced run.
type Report struct {
	Module   string  `json:"module"`
	Package  string  `json:"package"` // the main package built
	Packages int     `json:"packages"`
	TotalMs  float64 `json:"total_ms"`  // sum of every package's init clock time
	TotalKiB float64 `json:"total_kib"` // sum of the bytes allocated at init
	OwnMs    float64 `json:"own_ms"`    // the user's own packages only
	// Top are the heaviest packages by clock time, heaviest first.
	Top []Entry `json:"top"`
}

// Entry is one package's initialisation.
type Entry struct {
	Package string  `json:"package"`
	Own     bool    `json:"own"` // part of the user's module
	StartMs float64 `json:"start_ms"`
	ClockMs float64 `json:"clock_ms"`
	Bytes   int64   `json:"bytes"`
	Allocs  int64   `json:"allocs"`
	Sites   []Site  `json:"sites,omitempty"`
}

// lineRE matches one line of the runtime's init trace, e.g.
// "init regexp @0.31 ms, 0.012 ms clock, 6432 bytes, 51 allocs".
var lineRE = regexp.MustCompile(`^init (\S+) @([0-9.]+) ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs$`)

// Parse reads init trace lines from r; other lines are ignored.
func Parse(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		e := Entry{Package: m[1]}
		e.StartMs, _ = strconv.ParseFloat(m[2], 64)
		e.ClockMs, _ = strconv.ParseFloat(m[3], 64)
		e.Bytes, _ = strconv.ParseInt(m[4], 10, 64)
		e.Allocs, _ = strconv.ParseInt(m[5], 10, 64)
		out = append(out, e)
	}
	return out, sc.Err()
}

// Analyze builds the Go function in dir, traces its initialisation and
// finds the init work in the heaviest of its own packages.
func Analyze(ctx context.Context, dir string, opts Options) (*Report, error) {
	if opts.Top <= 0 {
		opts.Top = 10
	}
	modDir, module, err := findModule(dir)
	if err != nil {
		return nil, err
	}
	pkg := opts.Package
	if pkg == "" {
		// The package fnopt build compiles, by the same rules: the one
		// dir's fnopt.yaml names (relative to dir), else the module's.
		cfg, base := &config.Config{Name: filepath.Base(absOr(modDir))}, modDir
		if c, err := config.Load(dir); err == nil && c.Language == config.Go && c.Build.Main != "" {
			cfg, base = c, dir
		}
		if pkg, err = build.FindGoMain(base, settings.HostArch(), cfg); err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(absOr(modDir), filepath.Join(absOr(base), pkg))
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("%s: the main package %s is outside the module at %s", dir, pkg, modDir)
		}
		if rel != "." {
			pkg = module + "/" + filepath.ToSlash(rel)
		} else {
			pkg = "."
		}
	}
	tmp, err := os.MkdirTemp("", "fnopt-inittrace-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	if err := buildForTrace(ctx, modDir, pkg, bin); err != nil {
		return nil, err
	}
	entries, err := Run(ctx, bin, opts.Timeout)
	if err != nil {
		return nil, err
	}
	rep := summarise(entries, module, pkg, opts.Top)
	// Only the user's own code can be changed: find its init work.
	var own []string
	for _, e := range rep.Top {
		if e.Own {
			own = append(own, e.Package)
		}
	}
	if len(own) > 0 {
		sites, err := FindSites(modDir, own, pkg)
		if err != nil {
			return nil, err
		}
		for i := range rep.Top {
			rep.Top[i].Sites = sites[rep.Top[i].Package]
		}
	}
	return rep, nil
}

func summarise(entries []Entry, module, pkg string, top int) *Report {
	rep := &Report{Module: module, Package: pkg, Packages: len(entries)}
	for i := range entries {
		e := &entries[i]
		e.Own = e.Package == "main" || e.Package == module || strings.HasPrefix(e.Package, module+"/")
		rep.TotalMs += e.ClockMs
		rep.TotalKiB += float64(e.Bytes) / 1024
		if e.Own {
			rep.OwnMs += e.ClockMs
		}
	}
	sorted := append([]Entry(nil), entries...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ClockMs > sorted[j].ClockMs })
	rep.Top = sorted[:min(top, len(sorted))]
	// The user's own packages are what they can change: the heaviest few
	// are reported even when the standard library outweighs them.
	extra := 0
	for _, e := range sorted[len(rep.Top):] {
		if e.Own && extra < maxOwnExtra && (e.ClockMs > 0 || e.Allocs > 0) {
			rep.Top = append(rep.Top, e)
			extra++
		}
	}
	return rep
}

// maxOwnExtra bounds the own packages reported beyond the top entries.
const maxOwnExtra = 5

var moduleRE = regexp.MustCompile(`(?m)^module[ \t]+"?([^\s"]+)"?`)

// findModule returns the folder of the function's go.mod — dir itself, or
// the first found below it (SAM projects keep each function's module in
// its own folder) — and the module path.
func findModule(dir string) (string, string, error) {
	var found string
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		found = dir
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found != "" {
			return filepath.SkipAll
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && rel != "." {
			name := d.Name()
			if strings.HasPrefix(name, ".") || name == "vendor" || name == "node_modules" || name == "testdata" || strings.Count(rel, string(filepath.Separator)) >= 3 {
				return filepath.SkipDir
			}
		}
		if !d.IsDir() && d.Name() == "go.mod" {
			found = filepath.Dir(p)
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	if found == "" {
		return "", "", fmt.Errorf("%s: no go.mod found: the init trace needs a Go module", dir)
	}
	b, err := os.ReadFile(filepath.Join(found, "go.mod"))
	if err != nil {
		return "", "", fmt.Errorf("reading %s/go.mod: %w", found, err)
	}
	m := moduleRE.FindSubmatch(b)
	if m == nil {
		return "", "", fmt.Errorf("%s/go.mod has no module line", found)
	}
	return found, string(m[1]), nil
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		if r, err := filepath.EvalSymlinks(a); err == nil {
			return r
		}
		return a
	}
	return p
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// buildForTrace compiles the function for this machine with the tuned flags, so
// the trace shows what init costs once the build findings are fixed.
func buildForTrace(ctx context.Context, modDir, pkg, out string) error {
	g := settings.GoHost()
	args := append([]string{"build", "-o", out}, g.Flags...)
	args = append(args, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = modDir
	cmd.Env = append(os.Environ(), g.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// As every build: stopped gently when ctx ends, no go-build* left.
	if err := build.RunCompiler(cmd); err != nil {
		return fmt.Errorf("building %s for the init trace: %v: %s", pkg, err, firstLine(stderr.String()))
	}
	return nil
}

// maxTrace bounds what is kept of the function's output.
const maxTrace = 8 << 20

// Run starts bin once with GODEBUG=inittrace=1 and no Lambda Runtime API
// in its environment: a Lambda function then stops right after init. It is
// killed, with its process group, after timeout (default 20 s).
func Run(ctx context.Context, bin string, timeout time.Duration) ([]Entry, error) {
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command(bin)
	cmd.Dir = filepath.Dir(bin)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "AWS_LAMBDA_RUNTIME_API" || k == "_LAMBDA_SERVER_PORT" || k == "GODEBUG" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
	procgroup.Set(cmd)
	var out limitedBuffer
	out.max = maxTrace
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-ctx.Done():
		_ = procgroup.Kill(cmd.Process)
		<-done
	}
	entries, err := Parse(bytes.NewReader(out.Bytes()))
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, errors.New("the function printed no init trace: is it a Go program built with Go 1.16 or later?")
	}
	return entries, nil
}

type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
