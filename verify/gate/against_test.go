package gate

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify"
)

// functionFiles renders the gate experiment's function
// (examples/gateexperiment/function)
// with initWork rounds of work before its first /next.
func functionFiles(t *testing.T, initWork string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, name := range []string{"main.go", "work.go", "go.mod", "fnopt.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "examples", "gateexperiment", "function", name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(data), "{{.InitWork}}", initWork)
		files[name] = strings.ReplaceAll(s, "{{.Arch}}", string(settings.HostArch()))
	}
	return files
}

// functionRepo makes a repository whose only commit has the function in
// fn/ (base files), then writes head over them in the working tree.
func functionRepo(t *testing.T, base, head map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not installed")
	}
	repo, _ := testRepo(t)
	write := func(files map[string]string) {
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(repo, "fn", name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(base)
	ctx := context.Background()
	if _, err := git(ctx, repo, "add", "-A"); err != nil {
		t.Fatal(err)
	}
	if _, err := git(ctx, repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "function"); err != nil {
		t.Fatal(err)
	}
	write(head)
	return repo
}

const crashingMain = "package main\n\nimport \"os\"\n\nfunc main() { os.Exit(3) }\n"

func TestAgainst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions")
	}
	// Base: no init work. Working tree: 30 million rounds, tens of
	// milliseconds, far beyond any scheduling noise.
	repo := functionRepo(t, functionFiles(t, "0"), map[string]string{"work.go": functionFiles(t, "30000000")["work.go"]})
	var progress []int
	m, err := Against(context.Background(), AgainstOptions{
		Dir: filepath.Join(repo, "fn"), Rev: "HEAD",
		Measure: verify.Options{Samples: 6, Progress: func(done, total int) {
			if total != 12 {
				t.Errorf("progress total %d, want 12", total)
			}
			progress = append(progress, done)
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Before.Samples) != 6 || len(m.After.Samples) != 6 {
		t.Fatalf("samples %d before, %d after; want 6 each", len(m.Before.Samples), len(m.After.Samples))
	}
	if len(progress) != 12 || progress[11] != 12 {
		t.Errorf("progress %v", progress)
	}
	if !strings.HasPrefix(m.Before.Label, "HEAD (") || m.After.Label != "working tree" || len(m.Commit) != 40 {
		t.Errorf("labels %q, %q, commit %q", m.Before.Label, m.After.Label, m.Commit)
	}
	for _, s := range []Side{m.Before, m.After} {
		if s.Sizes["zip"] <= 0 || s.Sizes["bootstrap"] <= s.Sizes["zip"] || s.Artifact != "zip" {
			t.Errorf("sizes %v, artifact %q", s.Sizes, s.Artifact)
		}
	}
	before := Quantile(verify.Values(m.Before.Samples, verify.MetricInit), 0.5)
	after := Quantile(verify.Values(m.After.Samples, verify.MetricInit), 0.5)
	if !(after > before) {
		t.Errorf("init median %.2f ms with the added work, %.2f ms without: the sides are swapped", after, before)
	}
	if n := worktreeCount(t, repo); n != 1 {
		t.Errorf("%d worktrees left", n)
	}
}

func TestAgainstFunctionFails(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions")
	}
	good := functionFiles(t, "0")
	crashing := map[string]string{"main.go": crashingMain, "work.go": "package main\n"}
	crashingBase := functionFiles(t, "0")
	for name, data := range crashing {
		crashingBase[name] = data
	}
	tests := []struct {
		name       string
		base, head map[string]string
		wantBase   bool
	}{
		{"working tree crashes", good, crashing, false},
		{"base crashes", crashingBase, good, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := functionRepo(t, tt.base, tt.head)
			_, err := Against(context.Background(), AgainstOptions{Dir: filepath.Join(repo, "fn"), Rev: "HEAD", Measure: verify.Options{Samples: 5}})
			var fe *FunctionFailedError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a FunctionFailedError", err)
			}
			if fe.Base != tt.wantBase || IsBaseFailure(err) != tt.wantBase {
				t.Errorf("base failure %v, want %v (%v)", fe.Base, tt.wantBase, err)
			}
			if n := worktreeCount(t, repo); n != 1 {
				t.Errorf("%d worktrees left", n)
			}
		})
	}
}

// recordingStarter notes which target each cold start belongs to.
type recordingStarter struct {
	verify.Starter
	name string
	log  *[]string
}

func (r recordingStarter) Start(ctx context.Context, spec verify.StartSpec) (verify.Process, error) {
	*r.log = append(*r.log, r.name)
	return r.Starter.Start(ctx, spec)
}

func TestMeasureBalancedAlternatesOrder(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not installed")
	}
	dir := t.TempDir()
	for name, data := range functionFiles(t, "0") {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	boot := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-o", boot, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the function: %v\n%s", err, out)
	}
	var log []string
	targets := map[string]*verify.Target{}
	for _, name := range []string{"a", "b"} {
		tg, err := verify.PrepareBootstrap(boot, verify.PrepareOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tg.Starter = recordingStarter{Starter: tg.Starter, name: name, log: &log}
		targets[name] = tg
	}
	runs, err := MeasureBalanced(context.Background(), targets["a"], targets["b"], verify.Options{Samples: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(log, " "), "a b b a a b b a"; got != want {
		t.Errorf("start order %q, want %q", got, want)
	}
	if len(runs[0].Samples) != 4 || len(runs[1].Samples) != 4 || runs[0].Target != targets["a"] {
		t.Errorf("runs: %d and %d samples", len(runs[0].Samples), len(runs[1].Samples))
	}

	// Adaptive sampling measures in blocks: the alternation goes on
	// across them as if the pairs were measured at once.
	for _, blocks := range [][]int{{1, 3}, {2, 1, 1}, {3, 2}} {
		log = nil
		runs := [2]verify.Run{{Target: targets["a"]}, {Target: targets["b"]}}
		for _, n := range blocks {
			if err := measureBalanced(context.Background(), &runs, verify.Options{}, n, 5); err != nil {
				t.Fatal(err)
			}
		}
		total := 0
		for _, n := range blocks {
			total += n
		}
		want := strings.Join(strings.Fields("a b b a a b b a a b")[:2*total], " ")
		if got := strings.Join(log, " "); got != want || len(runs[0].Samples) != total || len(runs[1].Samples) != total {
			t.Errorf("blocks %v: start order %q, want %q; %d and %d samples", blocks, got, want, len(runs[0].Samples), len(runs[1].Samples))
		}
	}
}

// TestAgainstAdaptive: with Adaptive the sides are measured in blocks
// until the gated metric is decided. Tens of milliseconds of added init
// work are beyond the threshold at the first look.
func TestAgainstAdaptive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions")
	}
	repo := functionRepo(t, functionFiles(t, "0"), map[string]string{"work.go": functionFiles(t, "30000000")["work.go"]})
	var totals []int
	m, err := Against(context.Background(), AgainstOptions{
		Dir: filepath.Join(repo, "fn"), Rev: "HEAD",
		Measure:    verify.Options{Progress: func(_, total int) { totals = append(totals, total) }},
		Adaptive:   &Adaptive{MaxSamples: 40, Block: 10},
		Thresholds: DefaultThresholds(),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Usually decided at the first look; on a loaded machine a block more
	// may be needed. Either way sampling stops at the look that decided,
	// with whole blocks on both sides.
	s := m.Sampling
	if !s.Adaptive || s.MaxSamples != 40 || len(s.Looks) == 0 {
		t.Fatalf("sampling %+v, want adaptive looks up to 40", s)
	}
	last := s.Looks[len(s.Looks)-1]
	if last.Stop != StopBeyond {
		t.Fatalf("sampling %+v, want a regression decided at the last look", s)
	}
	for _, l := range s.Looks[:len(s.Looks)-1] {
		if l.Stop != StopNone {
			t.Errorf("look %+v stopped, yet sampling went on", l)
		}
	}
	if n := len(m.Before.Samples); n != last.N1 || len(m.After.Samples) != last.N2 || n != 10*len(s.Looks) {
		t.Errorf("samples %d before, %d after in %d looks; want blocks of 10 up to the deciding look", n, len(m.After.Samples), len(s.Looks))
	}
	// Progress counts towards the cap, both sides.
	if len(totals) == 0 || totals[0] != 80 {
		t.Errorf("progress totals %v, want 80", totals)
	}
	if n := worktreeCount(t, repo); n != 1 {
		t.Errorf("%d worktrees left", n)
	}
}
