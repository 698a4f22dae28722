package verifycmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/schematest"
	"github.com/fnopt/fnopt/templates"
	"github.com/fnopt/fnopt/verify"
)

// newProject writes the project `fnopt new NAME --yes` writes (every
// option at its default) into a new folder and returns the folder.
func newProject(t *testing.T, name string) string {
	t.Helper()
	o := templates.Options{Name: name}
	for _, option := range templates.OptionNames {
		if err := o.Set(option, templates.Choices[option][0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Normalize(); err != nil {
		t.Fatal(err)
	}
	files, err := templates.Render(o)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := templates.Write(t.Context(), dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// setBudget replaces one budget's value in dir's fnopt.yaml, as a user
// tightening it would.
func setBudget(t *testing.T, dir, name, value string) {
	t.Helper()
	path := filepath.Join(dir, "fnopt.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(  ` + name + `:) .*$`)
	if !re.Match(data) {
		t.Fatalf("fnopt.yaml has no budget %s:\n%s", name, data)
	}
	if err := os.WriteFile(path, re.ReplaceAll(data, []byte("$1 "+value)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyEnforcesBudgets does what a generated project says (its next
// steps, README and fnopt.yaml): plain `fnopt verify` measures the cold
// start against fnopt.yaml's budgets and fails, exit status 1, when the
// function goes over one. The project is the default one of `fnopt new`,
// built as verify builds it.
func TestVerifyEnforcesBudgets(t *testing.T) {
	// The project's modules come from the shared module cache, offline.
	t.Setenv("GOFLAGS", "-mod=readonly")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("GOWORK", "off")
	dir := newProject(t, "budgets")
	check := func(t *testing.T, wantCode int, exceeded []string) {
		t.Helper()
		out, errOut, code := execute(t, dir, "--samples", "6")
		if code != wantCode {
			t.Fatalf("exit %d, want %d:\n%s%s", code, wantCode, out, errOut)
		}
		if !strings.Contains(out, "budgets (fnopt.yaml): init_p50_ms ") {
			t.Errorf("the text report does not show the budgets:\n%s", out)
		}
		for _, name := range exceeded {
			if !regexp.MustCompile(name + ` [^,]* EXCEEDED`).MatchString(out) {
				t.Errorf("the text report does not say %s was exceeded:\n%s", name, out)
			}
		}
		if wantCode == 1 && !strings.Contains(out, "FAILED: over budget ("+strings.Join(exceeded, ", ")+")") {
			t.Errorf("the verdict does not name the budgets exceeded:\n%s", out)
		}

		out, errOut, code = execute(t, dir, "--samples", "6", "--json")
		if code != wantCode {
			t.Fatalf("--json: exit %d, want %d:\n%s%s", code, wantCode, out, errOut)
		}
		schematest.Load(t, "verify.v1.schema.json").Validate(t, []byte(out))
		var doc Report
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		var names, over []string
		for _, b := range doc.Budgets {
			names = append(names, b.Name)
			if b.Exceeded {
				over = append(over, b.Name)
			}
		}
		want := []string{verify.BudgetInitP50, verify.BudgetInitP90, verify.BudgetArtifactBytes}
		if strings.Join(names, " ") != strings.Join(want, " ") || strings.Join(over, " ") != strings.Join(exceeded, " ") {
			t.Errorf("JSON budgets %+v: want %v checked and %v exceeded", doc.Budgets, want, exceeded)
		}
		// fnopt.yaml says artifact_bytes limits dist/function.zip for
		// its arch (arm64), not the host build verify measures.
		var zip int64
		for _, a := range doc.Artifact.Sizes {
			if a.Name == "zip" && a.Arch == settings.ARM64 {
				zip = a.Bytes
			}
		}
		for _, b := range doc.Budgets {
			if b.Name == verify.BudgetArtifactBytes && (zip == 0 || b.Value != float64(zip)) {
				t.Errorf("artifact_bytes checked %v bytes, the arm64 zip is %d", b.Value, zip)
			}
		}
	}
	// Each case tightens fnopt.yaml further than the one before. The init
	// budgets are set far from any time a start can take (Lambda's init
	// limit is 10 s), so no case depends on how loaded the machine is.
	setBudget(t, dir, "init_p50_ms", "100000")
	setBudget(t, dir, "init_p90_ms", "100000")
	t.Run("within budget", func(t *testing.T) { check(t, 0, nil) })
	t.Run("init p50", func(t *testing.T) {
		setBudget(t, dir, "init_p50_ms", "0.001")
		check(t, 1, []string{verify.BudgetInitP50})
	})
	t.Run("artifact bytes", func(t *testing.T) {
		setBudget(t, dir, "artifact_bytes", "1000")
		check(t, 1, []string{verify.BudgetInitP50, verify.BudgetArtifactBytes})
	})
	// Saving a baseline measures too: it checks the budgets as plain
	// verify does (the baseline is still saved: it is a measurement).
	t.Run("saving a baseline", func(t *testing.T) {
		saved := filepath.Join(t.TempDir(), "baseline.json")
		out, errOut, code := execute(t, dir, "--samples", "6", "--save-baseline", saved)
		if code != 1 || !regexp.MustCompile(`init_p50_ms [^,]* EXCEEDED`).MatchString(out) || !strings.Contains(out, "FAILED: over budget (init_p50_ms, artifact_bytes)") {
			t.Errorf("--save-baseline over budget: exit %d, want 1 and the budgets exceeded:\n%s%s", code, out, errOut)
		}
		if _, err := os.Stat(saved); err != nil {
			t.Errorf("the baseline was not saved: %v", err)
		}
	})
}
