package verifycmd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/schematest"
	"github.com/fnopt/fnopt/verify/gate"
)

// The baseline tests use fakefn: "echo" answers at once, "sleep40" sleeps
// 40 ms before its first /next. 40 ms against an init of a few ms is far
// beyond any noise, so these verdicts are certain, not statistical.

func TestGateBaselineRegression(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	_, errOut, code := execute(t, bootstrap(t, "echo"), "--samples", "8", "--save-baseline", base)
	if code != 0 {
		t.Fatalf("--save-baseline: exit %d: %s", code, errOut)
	}
	b, err := gate.LoadBaseline(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Samples) != 8 || b.Machine.CPUs == 0 || b.Sizes["bootstrap"] == 0 {
		t.Errorf("baseline: %d samples, machine %+v, sizes %v", len(b.Samples), b.Machine, b.Sizes)
	}

	summary := filepath.Join(dir, "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	if err := os.WriteFile(summary, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plot := filepath.Join(dir, "init.svg")
	out, errOut, code := execute(t, bootstrap(t, "sleep40"), "--samples", "8", "--baseline", base, "--format", "json", "--plot", plot)
	if code != 1 {
		t.Fatalf("regression: exit %d, want 1: %s%s", code, out, errOut)
	}
	var doc gate.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--format json: %v\n%s", err, out)
	}
	if doc.Pass || doc.Metrics[0].Change != gate.ChangeRegression || !strings.Contains(doc.Before.Label, "baseline "+base) {
		t.Errorf("document: pass %v, change %s, before %q", doc.Pass, doc.Metrics[0].Change, doc.Before.Label)
	}
	md, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(md), "earlier step\n### ❌ fnopt gate failed") {
		t.Errorf("job summary not appended:\n%s", md)
	}
	if svg, err := os.ReadFile(plot); err != nil || !strings.HasPrefix(string(svg), "<?xml") {
		t.Errorf("plot: %v", err)
	}
}

func TestGateBaselineImprovementPasses(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "") // even when the tests run in GitHub Actions
	base := filepath.Join(t.TempDir(), "base.json")
	// 300 ms, not 40: at load 20 this machine's init of "echo" reached
	// 45 ms (p50) with a long tail, and 6 samples a side of a 40 ms gap
	// then overlapped enough for the gate to say it could not tell.
	saved, errOut, code := execute(t, bootstrap(t, "sleep300"), "--samples", "8", "--save-baseline", base, "--json")
	if code != 0 {
		t.Fatalf("--save-baseline: exit %d: %s", code, errOut)
	}
	// Saving a baseline prints verify's report; the file is a baseline.
	schematest.Load(t, "verify.v1.schema.json").Validate(t, []byte(saved))
	validateFile(t, baselineSchema, base)
	out, errOut, code := execute(t, bootstrap(t, "echo"), "--samples", "8", "--baseline", base)
	if code != 0 {
		t.Fatalf("improvement: exit %d, want 0: %s%s", code, out, errOut)
	}
	for _, want := range []string{"fnopt gate: PASS", "improvement"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestGateFunctionFails(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	base := filepath.Join(t.TempDir(), "base.json")
	if _, errOut, code := execute(t, bootstrap(t, "echo"), "--samples", "5", "--save-baseline", base); code != 0 {
		t.Fatalf("--save-baseline: exit %d: %s", code, errOut)
	}
	_, errOut, code := execute(t, bootstrap(t, "crash"), "--samples", "5", "--baseline", base)
	if code != 1 || !strings.Contains(errOut, "config missing") {
		t.Errorf("crashing function: exit %d, want 1 with its output: %s", code, errOut)
	}
}

func TestGateBadInput(t *testing.T) {
	dir := t.TempDir()
	echo := bootstrap(t, "echo")
	notJSON := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(notJSON, []byte("nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"against and baseline", []string{"--against", "HEAD", "--baseline", "x.json"}, "use one"},
		{"against and save", []string{"--against", "HEAD", "--save-baseline", "x.json"}, "does not combine"},
		{"format", []string{"--baseline", notJSON, "--format", "html"}, "--format"},
		{"gate metric", []string{"--baseline", notJSON, "--gate-metric", "rss"}, "--gate-metric"},
		{"warm without --warm", []string{"--baseline", notJSON, "--gate-metric", "warm-invoke"}, "--warm"},
		{"negative max regression", []string{"--baseline", notJSON, "--max-regression", "-5"}, "must not be negative"},
		{"alpha", []string{"--baseline", notJSON, "--alpha", "0"}, "alpha"},
		{"plot extension", []string{"--baseline", notJSON, "--plot", "x.pdf"}, ".svg or .png"},
		{"plot without comparison", []string{"--save-baseline", filepath.Join(dir, "b.json"), "--plot", "x.svg"}, "--plot draws a comparison"},
		{"too few samples", []string{"--baseline", notJSON, "--samples", "4"}, "at least 5"},
		{"missing baseline", []string{"--baseline", filepath.Join(dir, "missing.json")}, "reading baseline"},
		{"not a baseline", []string{"--baseline", notJSON}, "is not JSON"},
		{"against a bootstrap", []string{"--against", "HEAD"}, "needs a project folder"},
		{"samples auto without a comparison", []string{"--samples", "auto"}, "--samples auto measures until a comparison is decided: use it with --against or --baseline"},
		{"samples neither a count nor auto", []string{"--samples", "lots"}, "give a whole number, such as 30, or auto"},
		{"max samples with a count", []string{"--baseline", notJSON, "--samples", "8", "--max-samples", "50"}, "--max-samples caps --samples auto; with --samples 8 it does nothing"},
		{"max samples too few", []string{"--baseline", notJSON, "--max-samples", "3"}, "--max-samples 3: a cap of 3 samples per side is below the gate's minimum of 5"},
		{"strict without comparison", []string{"--save-baseline", filepath.Join(dir, "b.json"), "--strict"}, "--strict judges a comparison"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := execute(t, append([]string{echo}, tt.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2: %s%s", code, out, errOut)
			}
			if !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr %q, want one line containing %q", errOut, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "b.json")); err == nil {
				t.Error("a refused command wrote a baseline")
			}
		})
	}
}

// TestGateCouldNotTell: 5 samples a side cannot show any shift at alpha
// 0.001 (the smallest two-sided p is 2/252 ≈ 0.008), so the run passes
// saying it could not tell, and with --strict exits 2 after its report.
func TestGateCouldNotTell(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	echo := bootstrap(t, "echo")
	base := filepath.Join(t.TempDir(), "base.json")
	if _, errOut, code := execute(t, echo, "--samples", "5", "--save-baseline", base); code != 0 {
		t.Fatalf("--save-baseline: exit %d: %s", code, errOut)
	}
	tests := []struct {
		name  string
		extra []string
		exit  int
		want  string // on stdout
	}{
		{"text", nil, 0, "fnopt gate: COULD NOT TELL\n  init: a regression of "},
		{"strict", []string{"--strict"}, 2, "fnopt gate: COULD NOT TELL\n"},
		{"markdown, strict", []string{"--strict", "--format", "markdown"}, 2, "### ⚠️ fnopt gate could not tell\n"},
		{"json, strict", []string{"--strict", "--json"}, 2, `"verdict": "could-not-tell"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{echo, "--samples", "5", "--baseline", base, "--alpha", "0.001"}, tt.extra...)
			out, errOut, code := execute(t, args...)
			if code != tt.exit || !strings.Contains(out, tt.want) || errOut != "" {
				t.Errorf("exit %d (want %d), stderr %q; stdout lacks %q:\n%s", code, tt.exit, errOut, tt.want, out)
			}
			if tt.name == "json, strict" {
				schematest.Load(t, gateSchema).Validate(t, []byte(out))
			}
			if strings.Contains(out, `"verdict"`) && !strings.Contains(out, `"exit_code": 2`) {
				t.Errorf("JSON report's exit code is not 2:\n%s", out)
			}
		})
	}
}

// TestGateAdaptive: without --samples the gate samples adaptively. A 40 ms
// slower init against a saved baseline is a regression at the first look;
// saving a baseline alone, with nothing to decide, takes the cap.
func TestGateAdaptive(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	base := filepath.Join(t.TempDir(), "base.json")
	if _, errOut, code := execute(t, bootstrap(t, "echo"), "--max-samples", "12", "--save-baseline", base); code != 0 {
		t.Fatalf("--save-baseline: exit %d: %s", code, errOut)
	}
	b, err := gate.LoadBaseline(base)
	if err != nil {
		t.Fatal(err)
	}
	validateFile(t, baselineSchema, base)
	if len(b.Samples) != 12 || b.Settings.Samples != 12 {
		t.Errorf("the saved baseline has %d samples (settings %d), want the cap of 12", len(b.Samples), b.Settings.Samples)
	}
	out, errOut, code := execute(t, bootstrap(t, "sleep40"), "--max-samples", "40", "--baseline", base, "--json")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s%s", code, out, errOut)
	}
	schematest.Load(t, gateSchema).Validate(t, []byte(out))
	var doc gate.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := doc.Sampling
	if s.Mode != "auto" || s.MaxSamples != 40 || s.Stop != gate.StopBeyond || len(s.Looks) != 1 || doc.After.Samples != 20 || doc.Verdict != gate.VerdictFail {
		t.Errorf("sampling %+v, %d samples after, verdict %s; want a regression at the first look of 20", s, doc.After.Samples, doc.Verdict)
	}
}

// TestGateAgainst runs the recommended CI mode end to end on a git
// repository: the working tree adds tens of milliseconds of init work to
// the committed function (experiment/function), and the gate must fail
// with exit 1 and leave no worktree behind.
func TestGateAgainst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions")
	}
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	repo := t.TempDir()
	fn := filepath.Join(repo, "fn")
	write := func(work string) {
		for _, name := range []string{"main.go", "work.go", "go.mod", "fnopt.yaml"} {
			data, err := os.ReadFile(filepath.Join("..", "..", "examples", "gateexperiment", "function", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			s := strings.ReplaceAll(string(data), "{{.InitWork}}", work)
			s = strings.ReplaceAll(s, "{{.Arch}}", string(settings.HostArch()))
			if err := os.MkdirAll(fn, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(fn, name), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	write("0")
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "function")
	write("30000000")

	t.Setenv("GITHUB_STEP_SUMMARY", "")
	out, errOut, code := execute(t, fn, "--against", "HEAD", "--samples", "6", "--format", "markdown")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s%s", code, out, errOut)
	}
	if !strings.HasPrefix(out, "### ❌ fnopt gate failed") || !strings.Contains(out, "init regressed") || !strings.Contains(out, "**before** HEAD (") {
		t.Errorf("markdown report:\n%s", out)
	}
	if list := git("worktree", "list", "--porcelain"); strings.Count(list, "worktree ") != 1 {
		t.Errorf("worktrees left:\n%s", list)
	}

	_, errOut, code = execute(t, fn, "--against", "no-such-rev", "--samples", "6")
	if code != 2 || !strings.Contains(errOut, `revision "no-such-rev" is not in the repository`) {
		t.Errorf("unknown revision: exit %d: %s", code, errOut)
	}
}

// The gate's report and the baseline file are the gate library's
// documents; their schemas sit beside it.
var (
	gateSchema     = filepath.Join("..", "..", "verify", "gate", "gate.v1.schema.json")
	baselineSchema = filepath.Join("..", "..", "verify", "gate", "baseline.v1.schema.json")
)

// validateFile validates the JSON file at path against the schema file.
func validateFile(t *testing.T, schema, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schematest.Load(t, schema).Validate(t, data)
}
