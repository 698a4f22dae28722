package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestGoalsNameVariants keeps the targets and the rows in step: a renamed
// variant must not silently drop a target from the report.
func TestGoalsNameVariants(t *testing.T) {
	names := map[string]bool{}
	for _, v := range variants() {
		if names[v.Name] {
			t.Errorf("variant %s listed twice", v.Name)
		}
		names[v.Name] = true
		if v.Build == nil || v.What == "" || v.Expect == "" || v.Linkage == "" {
			t.Errorf("variant %s lacks a build, a description, an expected answer or a linkage", v.Name)
		}
	}
	for _, v := range variants() {
		if !names[ownFloor(v.Linkage)] {
			t.Errorf("variant %s: its own floor %s is not a variant", v.Name, ownFloor(v.Linkage))
		}
	}
	for _, g := range goals() {
		if !names[g.Row] || !names[g.Against] {
			t.Errorf("target %q names %s against %s: not both are variants", g.Name, g.Row, g.Against)
		}
	}
	for _, n := range []string{baselineName, goFloorName, floorName, floorGlibcStatic, floorGlibcDynamic} {
		if !names[n] {
			t.Errorf("reference row %s is not a variant", n)
		}
	}
}

// TestProjectCopyLeavesBuildOutput checks that a developer's dist/ and
// target/ in an example are not measured instead of a fresh build, and
// that the example itself is left untouched.
func TestProjectCopyLeavesBuildOutput(t *testing.T) {
	examples := t.TempDir()
	for _, f := range []string{"fn/main.go", "fn/dist/bootstrap", "fn/target/release/bootstrap"} {
		p := filepath.Join(examples, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := &workspace{examples: examples, dir: t.TempDir()}
	dir, err := w.project("fn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
		t.Errorf("main.go not copied: %v", err)
	}
	for _, gone := range []string{"dist", "target"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s copied into the workspace (err %v)", gone, err)
		}
		if _, err := os.Stat(filepath.Join(examples, "fn", gone)); err != nil {
			t.Errorf("the example's own %s was touched: %v", gone, err)
		}
	}
	again, err := w.project("fn")
	if err != nil || again != dir {
		t.Errorf("second copy = %s, %v; want the first one reused", again, err)
	}
}
