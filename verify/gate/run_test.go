package gate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify"
)

// fakeBootstraps builds verify's fakefn once for the calling test and
// returns a function that links it as DIR/<mode>/bootstrap: its task
// root's name picks its behaviour ("echo", "crash", "sleep40").
func fakeBootstraps(t *testing.T) func(mode string) string {
	t.Helper()
	bin := testenv.Fakefn(t)
	return func(mode string) string {
		dir := filepath.Join(t.TempDir(), mode)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		boot := filepath.Join(dir, "bootstrap")
		if err := os.Link(bin, boot); err != nil {
			t.Fatal(err)
		}
		return boot
	}
}

// gateOptions measures target with n samples and the default thresholds.
func gateOptions(target string, n int) Options {
	return Options{Target: target, Measure: verify.Options{Samples: n}, Thresholds: DefaultThresholds(), Metric: verify.MetricInit}
}

func TestRunBaseline(t *testing.T) {
	bootstrap := fakeBootstraps(t)
	echo := bootstrap("echo")
	dir := t.TempDir()
	saved := filepath.Join(dir, "saved.json")
	ctx := context.Background()

	// Save, then compare with what was saved.
	br, err := RunBaseline(ctx, BaselineOptions{Options: gateOptions(echo, 6), Save: saved})
	if err != nil {
		t.Fatal(err)
	}
	if br.Saved == nil || br.Result != nil || len(br.Run.Samples) != 6 {
		t.Fatalf("saving: saved %v, result %v, %d samples", br.Saved != nil, br.Result != nil, len(br.Run.Samples))
	}
	b, err := LoadBaseline(saved)
	if err != nil {
		t.Fatal(err)
	}
	if b.Target != echo || b.Settings.Samples != 6 || b.Sizes["bootstrap"] == 0 || b.Artifact != "zip" || b.Machine.CPUs == 0 || b.FnoptVersion == "" {
		t.Errorf("saved baseline %+v", b)
	}

	// One sample: too few to compare, after the save.
	few := filepath.Join(dir, "few.json")
	one := NewBaseline(b.Samples[:1], time.Now())
	if err := SaveBaseline(few, one); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		o         BaselineOptions
		wantErr   error  // errors.Is; nil: none
		wantLabel string // in Result.Before.Label
		wantWarn  string // in Result.Warnings
		wantSaved bool
	}{
		{
			name:      "compare",
			o:         BaselineOptions{Options: gateOptions(echo, 6), Compare: saved},
			wantLabel: "baseline " + saved + " (",
		},
		{
			name: "compare with other settings",
			o: func() BaselineOptions {
				o := BaselineOptions{Options: gateOptions(echo, 6), Compare: saved}
				o.Measure.Warm = 1
				return o
			}(),
			wantWarn: "baseline warm invocations was 0, now 1",
		},
		{
			name:      "compare and save",
			o:         BaselineOptions{Options: gateOptions(echo, 6), Compare: saved, Save: filepath.Join(dir, "again.json")},
			wantLabel: "baseline " + saved,
			wantSaved: true,
		},
		{
			name:      "saved, then too few samples to compare",
			o:         BaselineOptions{Options: gateOptions(echo, 6), Compare: few, Save: filepath.Join(dir, "kept.json")},
			wantErr:   ErrTooFewSamples,
			wantSaved: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br, err := RunBaseline(ctx, tt.o)
			if !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if br == nil {
				t.Fatal("no BaselineRun")
			}
			if (br.Saved != nil) != tt.wantSaved {
				t.Errorf("saved %v, want %v", br.Saved != nil, tt.wantSaved)
			}
			if tt.wantSaved {
				if _, err := LoadBaseline(tt.o.Save); err != nil {
					t.Errorf("saved file: %v", err)
				}
			}
			if err != nil {
				return
			}
			r := br.Result
			if r == nil || len(r.Before.Samples) != 6 || len(r.After.Samples) != 6 {
				t.Fatalf("result %+v", r)
			}
			if !strings.Contains(r.Before.Label, tt.wantLabel) || r.After.Label != "this run ("+echo+")" {
				t.Errorf("labels %q, %q", r.Before.Label, r.After.Label)
			}
			if tt.wantWarn != "" && !strings.Contains(strings.Join(r.Warnings, "\n"), tt.wantWarn) {
				t.Errorf("warnings %q lack %q", r.Warnings, tt.wantWarn)
			}
		})
	}
}

func TestRunBaselineFunctionFails(t *testing.T) {
	bootstrap := fakeBootstraps(t)
	save := filepath.Join(t.TempDir(), "saved.json")
	br, err := RunBaseline(context.Background(), BaselineOptions{Options: gateOptions(bootstrap("crash"), 5), Save: save})
	if err != nil {
		t.Fatal(err)
	}
	if br.Run.Failure == nil || br.Saved != nil || br.Result != nil {
		t.Errorf("crashing function: failure %v, saved %v, result %v", br.Run.Failure, br.Saved != nil, br.Result != nil)
	}
	if _, err := os.Stat(save); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed measurement was saved (%v)", err)
	}
}

// TestRunBaselineAdaptive: against a saved baseline, adaptive sampling
// measures blocks of the target until decided; a function that fails in a
// block stops it with the failure, numbered across blocks.
func TestRunBaselineAdaptive(t *testing.T) {
	bootstrap := fakeBootstraps(t)
	ctx := context.Background()
	saved := filepath.Join(t.TempDir(), "saved.json")
	if _, err := RunBaseline(ctx, BaselineOptions{Options: gateOptions(bootstrap("echo"), 10), Save: saved}); err != nil {
		t.Fatal(err)
	}
	adaptive := func(target string) BaselineOptions {
		o := BaselineOptions{Options: gateOptions(target, 0), Compare: saved}
		o.Adaptive = &Adaptive{MaxSamples: 30, Block: 10}
		return o
	}
	// 40 ms more init than the baseline: a regression, usually at the
	// first look (a loaded machine may need one more block); sampling
	// stops at the deciding look, before the cap of 30.
	br, err := RunBaseline(ctx, adaptive(bootstrap("sleep40")))
	if err != nil {
		t.Fatal(err)
	}
	s := br.Result.Sampling
	if !s.Adaptive || len(s.Looks) == 0 || len(s.Looks) > 2 || br.Result.Pass() {
		t.Fatalf("sampling %+v, pass %v; want a regression decided within two looks", s, br.Result.Pass())
	}
	if last := s.Looks[len(s.Looks)-1]; last.Stop != StopBeyond || last.N2 != len(br.Run.Samples) || len(br.Run.Samples) != 10*len(s.Looks) {
		t.Errorf("sampling %+v, %d samples; want blocks of 10 up to the deciding look", s, len(br.Run.Samples))
	}
	br, err = RunBaseline(ctx, adaptive(bootstrap("crash")))
	if err != nil {
		t.Fatal(err)
	}
	if br.Run.Failure == nil || br.Run.Failure.Sample != 1 || br.Result != nil {
		t.Errorf("crashing function: failure %+v, result %v", br.Run.Failure, br.Result != nil)
	}
}

// TestRunBaselineReadsBaselineFirst: a bad baseline file fails before
// anything is prepared or measured (here the target does not exist).
func TestRunBaselineReadsBaselineFirst(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"schema":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	o := BaselineOptions{Options: gateOptions(filepath.Join(t.TempDir(), "missing"), 5), Compare: bad}
	_, err := RunBaseline(context.Background(), o)
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Errorf("error %v, want the baseline's *SchemaError", err)
	}
}

func TestRunAgainst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions")
	}
	// The working tree adds tens of milliseconds of init work and a
	// budget the zip cannot meet.
	head := functionFiles(t, "30000000")
	head["fnopt.yaml"] += "budgets:\n  artifact_bytes: 1\n"
	repo := functionRepo(t, functionFiles(t, "0"), head)
	res, err := RunAgainst(context.Background(), "HEAD", gateOptions(filepath.Join(repo, "fn"), 6))
	if err != nil {
		t.Fatal(err)
	}
	failures := strings.Join(res.Failures(), "\n")
	for _, want := range []string{"init regressed", "budget artifact_bytes exceeded"} {
		if !strings.Contains(failures, want) {
			t.Errorf("failures %q lack %q", failures, want)
		}
	}
	if !strings.HasPrefix(res.Before.Label, "HEAD (") || res.After.Label != "working tree" {
		t.Errorf("labels %q, %q", res.Before.Label, res.After.Label)
	}
	if n := worktreeCount(t, repo); n != 1 {
		t.Errorf("%d worktrees left", n)
	}
}

func TestRunAgainstNotAProject(t *testing.T) {
	if _, err := RunAgainst(context.Background(), "HEAD", gateOptions(t.TempDir(), 5)); err == nil {
		t.Error("a folder without a function: no error")
	}
}

func TestGitRevision(t *testing.T) {
	repo, _ := testRepo(t)
	ctx := context.Background()
	head, err := git(ctx, repo, "rev-parse", "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		change    func()
		target    string
		wantRev   string
		wantDirty bool
	}{
		{"clean", func() {}, filepath.Join(repo, "fn"), head, false},
		{"a file as target", func() {}, filepath.Join(repo, "fn", "version"), head, false},
		{"untracked file", func() { write("new", "x") }, filepath.Join(repo, "fn"), head, false},
		{"tracked file changed", func() { write("fn/version", "changed") }, filepath.Join(repo, "fn"), head, true},
		{"outside a repository", func() {}, t.TempDir(), "", false},
		{"image reference", func() {}, "oci:dist/image", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.change()
			rev, dirty := gitRevision(ctx, tt.target)
			if rev != tt.wantRev || dirty != tt.wantDirty {
				t.Errorf("gitRevision = %q, %v; want %q, %v", rev, dirty, tt.wantRev, tt.wantDirty)
			}
		})
	}
}

func TestAppendMarkdown(t *testing.T) {
	res := fixtureResults(t)["fail"]
	path := filepath.Join(t.TempDir(), "summary.md")
	if err := os.WriteFile(path, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := AppendMarkdown(path, res); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.HasPrefix(s, "earlier step\n### ❌ fnopt gate failed") || strings.Count(s, "### ❌ fnopt gate failed") != 2 {
		t.Errorf("job summary:\n%s", s)
	}
	if err := AppendMarkdown(filepath.Join(t.TempDir(), "missing", "summary.md"), res); err == nil || !strings.Contains(err.Error(), "writing the job summary") {
		t.Errorf("unwritable summary: error %v", err)
	}
}
