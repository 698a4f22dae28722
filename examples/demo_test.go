package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemoPointsAtWhatExists runs `make demo` (scripts/demo.sh) with few
// samples and checks what it says at the end: every file or folder it
// names under its output folder or the temporary folder exists once it
// has exited (its exit trap removes its scratch folder, so it must not
// point into it), and the scratch folder is gone.
func TestDemoPointsAtWhatExists(t *testing.T) {
	if testing.Short() {
		t.Skip("scaffolds, builds and measures three functions and the short benchmark")
	}
	bin := filepath.Join(t.TempDir(), "fnopt")
	build := exec.Command("go", "build", "-o", bin, "./cmd/fnopt")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building fnopt: %v\n%s", err, out)
	}
	out, tmp := t.TempDir(), t.TempDir()
	demo := exec.Command("bash", "scripts/demo.sh")
	demo.Dir = ".."
	demo.Env = append(os.Environ(), "FNOPT="+bin, "DEMO_SAMPLES=2", "DEMO_BENCH_SAMPLES=6", "DEMO_OUT="+out, "TMPDIR="+tmp)
	b, err := demo.CombinedOutput()
	said := string(b)
	if err != nil {
		t.Fatalf("make demo: %v\n%s", err, said)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "fnopt-demo.*")); len(left) > 0 {
		t.Errorf("the demo left its scratch folder: %v", left)
	}
	named := 0
	for _, p := range namedPaths(said) {
		if !strings.HasPrefix(p, out) && !strings.HasPrefix(p, tmp) {
			continue
		}
		named++
		if _, err := os.Stat(p); err != nil {
			t.Errorf("the demo points at %s, which is gone: %v", p, err)
		}
	}
	for _, f := range []string{"results.md", "results.json", "chart.svg"} {
		if _, err := os.Stat(filepath.Join(out, "bench", f)); err != nil {
			t.Errorf("the benchmark's %s is not kept: %v", f, err)
		}
	}
	if named == 0 {
		t.Errorf("the demo names none of its results:\n%s", said)
	}
}

// pathRE is an absolute path in the demo's words: up to a space, a comma,
// a closing parenthesis or a quote; {a,b} lists are expanded by namedPaths.
var pathRE = regexp.MustCompile(`/[^\s,()'"]*(\{[^}\s]*\})?`)

// namedPaths are the absolute paths said in s, brace lists expanded.
func namedPaths(s string) []string {
	var out []string
	for _, m := range pathRE.FindAllString(s, -1) {
		m = strings.TrimRight(m, ".:;")
		prefix, list, ok := strings.Cut(m, "{")
		if !ok {
			out = append(out, m)
			continue
		}
		for _, item := range strings.Split(strings.TrimSuffix(list, "}"), ",") {
			out = append(out, prefix+item)
		}
	}
	return out
}
