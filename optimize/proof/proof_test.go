package proof

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fnopt/fnopt/optimize/project"
)

// TestCompare builds a legacy function as it is and as its plan leaves
// it, through dist.Produce with the project's own build, and measures
// both: the plan's build is smaller and both answer.
func TestCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go function twice")
	}
	dir := filepath.Join(t.TempDir(), "legacy-go-sam")
	if err := project.CopyTree(filepath.Join("..", "..", "examples", "legacy-go-sam"), dir, nil); err != nil {
		t.Fatal(err)
	}
	plan, err := project.Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Compare(context.Background(), dir, plan, Options{Samples: 2})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]Side{"before": rep.Before, "after": rep.After} {
		if s.BinaryBytes <= 0 || s.ZipBytes <= 0 || s.ZipBytes >= s.BinaryBytes {
			t.Errorf("%s: binary %d B, zip %d B: want both measured, the zip smaller", name, s.BinaryBytes, s.ZipBytes)
		}
		if s.Init.N != 2 {
			t.Errorf("%s: %d init samples, want 2", name, s.Init.N)
		}
	}
	if rep.After.BinaryBytes >= rep.Before.BinaryBytes {
		t.Errorf("the plan's build is %d B, not smaller than the original's %d B", rep.After.BinaryBytes, rep.Before.BinaryBytes)
	}
}
