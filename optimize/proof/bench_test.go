package proof

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fnopt/fnopt/optimize/project"
)

func repoRoot(tb testing.TB) string {
	tb.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			tb.Fatal("no go.mod above the benchmark")
		}
		dir = filepath.Dir(dir)
	}
}

// BenchmarkLegacyGoSAM measures what `fnopt optimize --apply` brings to
// the go1.x-era SAM fixture, before and after, in one interleaved run of
// cold starts (both built for this machine so that both run natively),
// and the sizes of what ships (`make build`: x86_64 bin/main before,
// arm64 bin/bootstrap after). Targets: size ≤ 0.55×, init p50 ≤ 0.7×.
//
//	go test ./optimize/proof -run '^$' -bench LegacyGoSAM -benchtime 1x
func BenchmarkLegacyGoSAM(b *testing.B) {
	src := filepath.Join(repoRoot(b), "examples", "legacy-go-sam")
	plan, err := project.Analyze(src)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		// Cold page cache: a fresh Lambda host reads the binary from
		// storage, so its size is part of the cold start.
		rep, err := Compare(context.Background(), src, plan, Options{Samples: 30, ColdCache: true})
		if err != nil {
			b.Fatal(err)
		}
		shippedBefore, shippedAfter := shipped(b, src, plan)
		size := float64(rep.After.BinaryBytes) / float64(rep.Before.BinaryBytes)
		zip := float64(rep.After.ZipBytes) / float64(rep.Before.ZipBytes)
		initP50 := rep.After.Init.P50 / rep.Before.Init.P50
		cold := rep.After.ColdStart.P50 / rep.Before.ColdStart.P50
		ship := float64(shippedAfter) / float64(shippedBefore)
		b.ReportMetric(size, "size-ratio")
		b.ReportMetric(zip, "zip-ratio")
		b.ReportMetric(ship, "shipped-size-ratio")
		b.ReportMetric(initP50, "init-p50-ratio")
		b.ReportMetric(cold, "cold-p50-ratio")
		b.Logf("binary %d → %d B (%.2fx, target ≤ 0.55x); zip %d → %d B (%.2fx); shipped %d B x86_64 → %d B arm64 (%.2fx)",
			rep.Before.BinaryBytes, rep.After.BinaryBytes, size, rep.Before.ZipBytes, rep.After.ZipBytes, zip, shippedBefore, shippedAfter, ship)
		b.Logf("init p50 %.2f → %.2f ms (%.2fx, target ≤ 0.7x); cold start p50 %.2f → %.2f ms (%.2fx); %d interleaved samples each",
			rep.Before.Init.P50, rep.After.Init.P50, initP50, rep.Before.ColdStart.P50, rep.After.ColdStart.P50, cold, rep.Samples)
	}
}

// shipped builds the fixture with its own Makefile before and after the
// plan and returns the sizes of the binaries it ships.
func shipped(b *testing.B, src string, plan *project.Plan) (int64, int64) {
	changes, err := plan.Changes()
	if err != nil {
		b.Fatal(err)
	}
	var sizes [2]int64
	for i, side := range []struct {
		changes []project.FileChange
		bin     string
	}{{nil, "bin/main"}, {changes, "bin/bootstrap"}} {
		dir := filepath.Join(b.TempDir(), "fn")
		if err := project.CopyTree(src, dir, side.changes); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command("make", "build")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("make build: %v\n%s", err, out)
		}
		st, err := os.Stat(filepath.Join(dir, side.bin))
		if err != nil {
			b.Fatal(err)
		}
		sizes[i] = st.Size()
	}
	return sizes[0], sizes[1]
}
