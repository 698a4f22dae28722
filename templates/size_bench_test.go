package templates_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/templates"
)

// BenchmarkGoArtifactSizes prints the size of the hello function (raw
// event) of each Go client flavor built with fnopt's settings (the
// project's `make build`), next to a plain `go build` of the same code on
// aws-lambda-go (the official flavor's project, no flags), with the
// ratios. Targets: official ≤ 0.55× plain, minimal ≤ 0.25× plain.
//
//	go test ./templates -run '^$' -bench GoArtifactSizes -benchtime 1x
func BenchmarkGoArtifactSizes(b *testing.B) {
	root := b.TempDir()
	type row struct {
		arch                     string
		plain, official, minimal int64
		officialZip, minimalZip  int64
	}
	var rows []row
	for _, arch := range templates.Choices["arch"] {
		r := row{arch: arch}
		for _, client := range templates.Choices["client"] {
			dir := filepath.Join(root, client+"-"+arch)
			writeProject(b, dir, templates.Options{Name: "hello", Lang: "go", Event: "raw", Arch: settings.Arch(arch), Package: "zip", Client: config.Client(client)})
			runB(b, dir, nil, "make", "zip")
			bin, zip := size(b, filepath.Join(dir, "dist", "bootstrap")), size(b, filepath.Join(dir, "dist", "function.zip"))
			if client == "official" {
				r.official, r.officialZip = bin, zip
				goarch := map[string]string{"arm64": "arm64", "x86_64": "amd64"}[arch]
				runB(b, dir, []string{"GOOS=linux", "GOARCH=" + goarch}, "go", "build", "-o", "plain", ".")
				r.plain = size(b, filepath.Join(dir, "plain"))
			} else {
				r.minimal, r.minimalZip = bin, zip
			}
		}
		rows = append(rows, r)
	}
	for b.Loop() {
		// The sizes are measured once above; the loop only satisfies the
		// benchmark protocol.
	}
	fmt.Printf("\n%-7s %12s %12s %7s %12s %7s %12s %12s\n", "arch", "plain", "official", "ratio", "minimal", "ratio", "official.zip", "minimal.zip")
	for _, r := range rows {
		fmt.Printf("%-7s %12d %12d %7.3f %12d %7.3f %12d %12d\n", r.arch, r.plain, r.official, ratio(r.official, r.plain),
			r.minimal, ratio(r.minimal, r.plain), r.officialZip, r.minimalZip)
		b.ReportMetric(ratio(r.official, r.plain), "official/plain-"+r.arch)
		b.ReportMetric(ratio(r.minimal, r.plain), "minimal/plain-"+r.arch)
	}
	fmt.Printf("targets: official <= 0.55, minimal <= 0.25 of plain\n")
}

func ratio(a, b int64) float64 { return float64(a) / float64(b) }

func size(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

func runB(b *testing.B, dir string, env []string, name string, args ...string) {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(goEnv(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}
