package build_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/artifact"
	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/templates"
)

// artifactSizes are the three artifacts of one build, in bytes.
type artifactSizes struct {
	binary, zip, imageCompressed, imageUncompressed int64
}

// BenchmarkTemplateArtifacts builds the hello function (raw event) of each
// template twice, side by side: with fnopt's tuned settings (build.Build)
// and with a plain `go build` / `cargo build --release` of the same code
// (for Rust, without the template's [profile.release] and
// .cargo/config.toml). Both binaries are packaged the same way (fnopt's
// zip, fnopt's scratch image with CA certificates) and the sizes and the
// tuned/plain ratios are reported. It measures sizes, not time: the
// builds run once whatever b.N is. Both are for the host's architecture
// (x86_64 here), the only one the plain builds and Rust can target on
// every machine.
//
//	go test -run '^$' -bench TemplateArtifacts ./internal/function/build/
func BenchmarkTemplateArtifacts(b *testing.B) {
	arch := settings.HostArch()
	cases := []struct{ lang, client string }{
		{"go", "official"},
		{"go", "minimal"},
		{"rust", "minimal"},
	}
	for _, c := range cases {
		b.Run(c.lang+"-"+c.client, func(b *testing.B) {
			// b.Loop runs this function once, so the builds happen once;
			// the loop itself measures nothing.
			tuned, plain := measureTemplate(b, c.lang, c.client, arch)
			for b.Loop() {
			}
			ratio := func(t, p int64) float64 { return float64(t) / float64(p) }
			b.ReportMetric(float64(tuned.binary), "tuned-bin-B")
			b.ReportMetric(float64(plain.binary), "plain-bin-B")
			b.ReportMetric(ratio(tuned.binary, plain.binary), "bin-ratio")
			b.ReportMetric(ratio(tuned.zip, plain.zip), "zip-ratio")
			b.ReportMetric(ratio(tuned.imageCompressed, plain.imageCompressed), "img-ratio")
			b.Logf("\n%-22s %12s %12s %7s\n%s%s%s%s",
				c.lang+" "+c.client+" ("+string(arch)+")", "tuned", "plain", "ratio",
				row("binary", tuned.binary, plain.binary),
				row("zip", tuned.zip, plain.zip),
				row("image (compressed)", tuned.imageCompressed, plain.imageCompressed),
				row("image (uncompressed)", tuned.imageUncompressed, plain.imageUncompressed))
		})
	}
}

func row(name string, tuned, plain int64) string {
	return fmt.Sprintf("%-22s %12d %12d %6.2fx\n", name, tuned, plain, float64(tuned)/float64(plain))
}

func measureTemplate(b *testing.B, lang, client string, arch settings.Arch) (tuned, plain artifactSizes) {
	b.Helper()
	files, err := templates.Render(templates.Options{
		Name: "hello", Lang: config.Language(lang), Event: "raw", Arch: arch, Package: "zip", Client: config.Client(client),
	})
	if err != nil {
		b.Fatal(err)
	}
	tunedDir, plainDir := b.TempDir(), b.TempDir()
	for _, dir := range []string{tunedDir, plainDir} {
		for _, f := range files {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
				b.Fatal(err)
			}
		}
	}
	var env []string
	if lang == "rust" {
		env = testenv.CargoEnv(b)
	}

	cfg, err := config.Load(tunedDir)
	if err != nil {
		b.Fatal(err)
	}
	var log strings.Builder
	res, err := build.Build(context.Background(), tunedDir, cfg, build.Options{Arch: arch, Env: env, Log: &log})
	if err != nil {
		b.Fatalf("tuned build: %v\n%s", err, log.String())
	}
	tuned = packageSizes(b, res.Bootstrap, arch)
	plain = packageSizes(b, plainBuild(b, plainDir, lang, env), arch)
	return tuned, plain
}

// plainBuild builds dir the way a project without fnopt would be built,
// for the host, and returns the binary's path.
func plainBuild(b *testing.B, dir, lang string, env []string) string {
	b.Helper()
	var cmd *exec.Cmd
	var out string
	switch lang {
	case "go":
		out = filepath.Join(dir, "plain-bootstrap")
		pkg, err := build.FindGoMain(dir, settings.HostArch(), &config.Config{Name: "hello"})
		if err != nil {
			b.Fatal(err)
		}
		// Static like any Lambda build (provided.al2023 has a libc, but
		// the AWS guide builds with CGO off too); no other flags.
		cmd = testenv.Command(dir, append(env, "CGO_ENABLED=0"), "go", "build", "-o", out, pkg)
	case "rust":
		stripTuning(b, dir)
		out = filepath.Join(dir, "target", "release", "bootstrap")
		cmd = testenv.Command(dir, env, "cargo", "build", "--release")
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("plain build: %v\n%s", err, msg)
	}
	return out
}

var profileSection = regexp.MustCompile(`(?ms)^\[profile\.release\].*?(^\[|\z)`)

// stripTuning removes the template's release profile and cargo config,
// leaving Cargo's defaults.
func stripTuning(b *testing.B, dir string) {
	b.Helper()
	p := filepath.Join(dir, "Cargo.toml")
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	plain := profileSection.ReplaceAllString(string(data), "$1")
	if plain == string(data) {
		b.Fatal("Cargo.toml has no [profile.release] to remove: the template changed")
	}
	if err := os.WriteFile(p, []byte(plain), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, ".cargo")); err != nil {
		b.Fatal(err)
	}
}

func packageSizes(b *testing.B, bootstrap string, arch settings.Arch) artifactSizes {
	b.Helper()
	fi, err := os.Stat(bootstrap)
	if err != nil {
		b.Fatal(err)
	}
	zipBytes, err := artifact.WriteZip(bootstrap, filepath.Join(b.TempDir(), "function.zip"))
	if err != nil {
		b.Fatal(err)
	}
	img, err := image.Build(context.Background(), image.BuildOptions{Bootstrap: bootstrap, Arch: arch, CACerts: true})
	if err != nil {
		b.Fatal(err)
	}
	sz, err := image.SizesOf(img)
	if err != nil {
		b.Fatal(err)
	}
	return artifactSizes{binary: fi.Size(), zip: zipBytes, imageCompressed: sz.Compressed, imageUncompressed: sz.Uncompressed}
}
