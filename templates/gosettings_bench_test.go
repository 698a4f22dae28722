package templates_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/templates"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// triedGoDebug are the Go runtime settings measured for the Go templates
// (docs/bench.md, "Go runtime settings"): none shortened the start beyond
// this machine's noise, so fnopt's go.mod sets none of them. They stay
// here so that a new Go release can be checked in one command.
var triedGoDebug = []string{
	"containermaxprocs=0",
	"updatemaxprocs=0",
	"containermaxprocs=0+updatemaxprocs=0",
	"decoratemappings=0",
}

// BenchmarkGoRuntimeSettings measures what Go runtime settings compiled
// in as defaults (go.mod's godebug block, https://go.dev/doc/godebug) do
// to the start of the Go minimal hello: the template's project is built
// as it is (none) and with each setting alone, and the bootstraps are
// started interleaved by verify's engine, with a warm and a cold page
// cache. Beside them it builds the one change to the Go minimal template
// that was adopted (issue 16): its runtime client on system calls,
// against the net.Dial client it replaced. It prints init p50 per build
// and its ratio to none, side by side in one run; there is no timed
// assertion.
//
// FNOPT_BENCH_GODEBUG=k=v,k=v+k=v replaces the settings tried (each alone;
// + joins settings tried together); FNOPT_BENCH_SAMPLES sets the cold
// starts per build and regime (default 150).
//
//	go test ./templates -run '^$' -bench GoRuntimeSettings -benchtime 1x
func BenchmarkGoRuntimeSettings(b *testing.B) {
	samples := 150
	if s := os.Getenv("FNOPT_BENCH_SAMPLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 6 {
			b.Fatalf("FNOPT_BENCH_SAMPLES=%q: want a number ≥ 6", s)
		}
		samples = n
	}
	candidates := triedGoDebug
	if s := os.Getenv("FNOPT_BENCH_GODEBUG"); s != "" {
		candidates = strings.Split(s, ",")
	}
	type build struct {
		name    string
		godebug []string
		files   map[string]string // replaced in the project, by path
	}
	builds := []build{{name: "none"}}
	for _, c := range candidates {
		builds = append(builds, build{name: c, godebug: strings.Split(c, "+")})
	}
	builds = append(builds, build{name: "client-on-net.Dial", files: map[string]string{"internal/lambda/conn.go": netDialConn}})

	root := b.TempDir()
	tmpl := filepath.Join(root, "template")
	writeProject(b, tmpl, templates.Options{Name: "hello", Lang: "go", Event: "raw", Arch: settings.HostArch(), Package: "zip", Client: "minimal"})
	gomod, err := os.ReadFile(filepath.Join(tmpl, "go.mod"))
	if err != nil {
		b.Fatal(err)
	}
	var targets []*verify.Target
	var bins []string
	b.Cleanup(func() {
		for _, t := range targets {
			t.Close()
		}
	})
	for i, bl := range builds {
		dir := filepath.Join(root, fmt.Sprint(i))
		if err := os.CopyFS(dir, os.DirFS(tmpl)); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), withGodebug(gomod, bl.godebug), 0o644); err != nil {
			b.Fatal(err)
		}
		for name, src := range bl.files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		runB(b, dir, nil, "make", "build")
		bins = append(bins, filepath.Join(dir, "dist", "bootstrap"))
		t, err := verify.PrepareBootstrap(bins[i], verify.PrepareOptions{})
		if err != nil {
			b.Fatal(err)
		}
		t.Name = bl.name
		targets = append(targets, t)
	}
	type regime struct {
		name string
		cold bool
		p50  []float64
	}
	regimes := []*regime{{name: "warm page cache"}, {name: "cold page cache", cold: true}}
	cpu := make([][]float64, len(builds))
	for b.Loop() {
		// The CPU time of a start does not include waiting for a CPU, so
		// it shows small differences on a busy machine that wall-clock
		// init cannot: each bootstrap in turn, exiting at its first
		// connect (the Runtime API address is refused).
		for range samples {
			for i, bin := range bins {
				ms, err := startCPU(bin)
				if err != nil {
					b.Fatalf("%s: %v", builds[i].name, err)
				}
				cpu[i] = append(cpu[i], ms)
			}
		}
		for _, rg := range regimes {
			runs, err := verify.Measure(b.Context(), targets, verify.Options{Samples: samples, ColdCache: rg.cold})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range runs {
				if r.Failure != nil {
					b.Fatalf("%s: %v\n%s", r.Target.Name, r.Failure, r.Failure.Output)
				}
				rg.p50 = append(rg.p50, stats.Summarize(verify.Values(r.Samples, verify.MetricInit)).P50)
			}
		}
	}
	fmt.Printf("\nGo minimal hello, %s, init p50 of %d interleaved starts per build (verify.Measure), ratio to none\n", settings.HostArch(), samples)
	fmt.Printf("%-38s", "build (go.mod godebug, or the change)")
	for _, rg := range regimes {
		fmt.Printf(" %16s %6s", rg.name, "ratio")
	}
	fmt.Printf(" %16s %6s\n", "start CPU time", "ratio")
	cpu50 := make([]float64, len(builds))
	for i := range builds {
		cpu50[i] = stats.Summarize(cpu[i]).P50
	}
	for i, bl := range builds {
		fmt.Printf("%-38s", bl.name)
		for _, rg := range regimes {
			fmt.Printf(" %13.3f ms %5.3f×", rg.p50[i], rg.p50[i]/rg.p50[0])
		}
		fmt.Printf(" %13.3f ms %5.3f×\n", cpu50[i], cpu50[i]/cpu50[0])
	}
	// After b.Loop, which resets the metrics reported before it.
	for i, bl := range builds[1:] {
		for _, rg := range regimes {
			unit := strings.NewReplacer("=", "-").Replace(bl.name) + "/none-init-" + strings.Fields(rg.name)[0]
			b.ReportMetric(rg.p50[i+1]/rg.p50[0], unit)
		}
		b.ReportMetric(cpu50[i+1]/cpu50[0], strings.NewReplacer("=", "-").Replace(bl.name)+"/none-start-cpu")
	}
}

// netDialConn is the Go minimal client's connection as it was before
// issue 16: net.Dial's, which links net, its poller and its resolver.
const netDialConn = `package lambda

import "net"

type conn struct{ net.Conn }

func dial(addr string) (*conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &conn{c}, nil
}
`

// startCPU runs bootstrap with the Runtime API address refused, so it
// runs its whole start-up and exits at its first connect, and returns the
// CPU time (user and system, all threads) it used, in milliseconds.
func startCPU(bootstrap string) (float64, error) {
	cmd := exec.Command(bootstrap)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:1"}
	err := cmd.Run()
	if cmd.ProcessState == nil {
		return 0, err
	}
	return float64(cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime()) / 1e6, nil
}

var godebugLine = regexp.MustCompile(`(?m)^godebug\b.*\n(?:(?:\t.*|\))\n)*`)

// withGodebug returns go.mod with its godebug directives replaced by one
// block of kv (none when kv is empty).
func withGodebug(gomod []byte, kv []string) []byte {
	out := godebugLine.ReplaceAll(gomod, nil)
	if len(kv) == 0 {
		return out
	}
	block := "\ngodebug (\n\t" + strings.Join(kv, "\n\t") + "\n)\n"
	return append(out, block...)
}
