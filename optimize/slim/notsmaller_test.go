package slim

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/testenv"
)

// TestMinimizeAndProveNeverGrows: minimising an image that is already
// minimal (here one this function minimised) writes nothing, proves
// nothing, and says the minimised image would not be smaller: an image is
// never replaced by a bigger one.
func TestMinimizeAndProveNeverGrows(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "strace", "strace")
	img, _ := fixture(t)
	src, err := image.ParseRef(writeOCI(t, img))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := MinimizeAndProveOptions{Samples: 1}
	o.Event = []byte(`{"n":1}`)
	minimal := image.Ref{Kind: image.OCI, Path: filepath.Join(t.TempDir(), "minimal")}
	first, err := MinimizeAndProve(ctx, src, minimal, o)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Written || first.NotSmaller {
		t.Fatalf("the fixture was not minimised: written %v, not smaller %v", first.Written, first.NotSmaller)
	}

	again := image.Ref{Kind: image.OCI, Path: filepath.Join(t.TempDir(), "again")}
	var stages []Stage
	o.OnStage = func(s Stage) { stages = append(stages, s) }
	out, err := MinimizeAndProve(ctx, minimal, again, o)
	if err != nil {
		t.Fatal(err)
	}
	if !out.NotSmaller || out.Written || out.Proof != nil {
		t.Fatalf("not smaller %v, written %v, proof %v: want not smaller, nothing written or proven", out.NotSmaller, out.Written, out.Proof)
	}
	if out.After.Compressed < out.Before.Compressed && out.After.Uncompressed <= out.Before.Uncompressed {
		t.Errorf("said not smaller of %+v against %+v", out.After, out.Before)
	}
	if len(stages) != 1 || stages[0] != StageMinimize {
		t.Errorf("stages %v: want the minimisation alone", stages)
	}
	if _, err := image.Load(ctx, again, image.LoadOptions{}); err == nil {
		t.Error("an image that is not smaller was written")
	}
}

// TestNotSmaller: an image is worth writing only when it is smaller
// compressed and no bigger unpacked.
func TestNotSmaller(t *testing.T) {
	for _, tt := range []struct {
		before, after Stats
		want          bool
	}{
		{Stats{Compressed: 100, Uncompressed: 200}, Stats{Compressed: 50, Uncompressed: 100}, false},
		{Stats{Compressed: 100, Uncompressed: 200}, Stats{Compressed: 100, Uncompressed: 100}, true},
		{Stats{Compressed: 100, Uncompressed: 200}, Stats{Compressed: 103, Uncompressed: 190}, true},
		{Stats{Compressed: 100, Uncompressed: 200}, Stats{Compressed: 90, Uncompressed: 201}, true},
	} {
		if got := notSmaller(tt.before, tt.after); got != tt.want {
			t.Errorf("notSmaller(%+v, %+v) = %v, want %v", tt.before, tt.after, got, tt.want)
		}
	}
}
