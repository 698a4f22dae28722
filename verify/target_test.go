//go:build linux

package verify

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/artifact"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

func TestPrepareZip(t *testing.T) {
	zipPath := filepath.Join(t.TempDir(), "function.zip")
	zipBytes, err := artifact.WriteZip(testBins.fakefn, zipPath)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := Prepare(context.Background(), zipPath, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root := tg.TaskRoot
	runs := measure(t, Options{Samples: 1, Expect: mustExpect(t, DefaultEvent)}, tg)
	if !runs[0].OK() {
		t.Fatal(runs[0].Failure)
	}
	st, _ := os.Stat(testBins.fakefn)
	want := map[string]int64{"zip": zipBytes, "unzipped": st.Size(), "bootstrap": st.Size()}
	for _, a := range tg.Artifacts {
		if want[a.Name] != a.Bytes || a.Arch != settings.HostArch() {
			t.Errorf("artifact %+v, want %d bytes for %s", a, want[a.Name], settings.HostArch())
		}
		delete(want, a.Name)
	}
	if len(want) != 0 {
		t.Errorf("missing artifacts %v", want)
	}
	if err := tg.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("task root %s left after Close: %v", root, err)
	}
}

type zipEntry struct {
	name string
	mode os.FileMode
	body string
}

func writeTestZip(t *testing.T, entries []zipEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestExtractZip(t *testing.T) {
	outside := t.TempDir()
	tests := []struct {
		name    string
		entries []zipEntry
		limit   int64
		wantErr string
	}{
		{"files, folders and an inner link", []zipEntry{
			{"bootstrap", 0o755, "#!/bin/sh\n"}, {"lib/", os.ModeDir | 0o755, ""}, {"lib/a.so", 0o644, "x"},
			{"lib/b.so", os.ModeSymlink | 0o777, "a.so"}}, 1 << 20, ""},
		{"parent escape", []zipEntry{{"../evil", 0o644, "x"}}, 1 << 20, "leaves the package"},
		{"hidden parent escape", []zipEntry{{"a/../../evil", 0o644, "x"}}, 1 << 20, "leaves the package"},
		{"absolute name", []zipEntry{{"/etc/evil", 0o644, "x"}}, 1 << 20, "absolute"},
		{"write through a link", []zipEntry{{"out", os.ModeSymlink | 0o777, outside}, {"out/evil", 0o644, "x"}}, 1 << 20, "out/evil"},
		{"duplicate entry", []zipEntry{{"a", 0o644, "x"}, {"a", 0o644, "y"}}, 1 << 20, "exists"},
		{"too large", []zipEntry{{"big", 0o644, strings.Repeat("0", 4096)}}, 1000, "more than 1000 bytes"},
		{"device", []zipEntry{{"dev", os.ModeDevice | 0o644, ""}}, 1 << 20, "not a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			files, _, err := extractZip(writeTestZip(t, tt.entries), root, tt.limit)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(files) != 2 {
					t.Errorf("files %v", files)
				}
				if st, err := os.Stat(filepath.Join(root, "bootstrap")); err != nil || st.Mode().Perm() != 0o755 {
					t.Errorf("bootstrap: %v %v", st, err)
				}
				if target, err := os.Readlink(filepath.Join(root, "lib/b.so")); err != nil || target != "a.so" {
					t.Errorf("link: %q %v", target, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("extraction wrote outside its folder: %v", entries)
			}
		})
	}
}

func TestPrepareBootstrapRefuses(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, []byte("x"), 0o644)
	// The test bootstrap with its ELF e_machine (offset 18) rewritten to
	// the other architecture.
	b, err := os.ReadFile(testBins.fakefn)
	if err != nil {
		t.Fatal(err)
	}
	other := settings.ARM64
	if settings.HostArch() == settings.ARM64 {
		other = settings.X86_64
	}
	m := other.ELFMachine()
	b[18], b[19] = byte(m), byte(m>>8)
	foreign := filepath.Join(dir, "foreign")
	os.WriteFile(foreign, b, 0o755)
	for path, want := range map[string]string{
		plain:                         "not an executable file",
		foreign:                       "built for " + string(other),
		filepath.Join(dir, "missing"): "no such file",
	} {
		if _, err := Prepare(context.Background(), path, PrepareOptions{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Prepare(%s) = %v, want %q", filepath.Base(path), err, want)
		}
	}
}

// TestPrepareProject builds a project that deploys to the other
// architecture (arm64 on an x86_64 machine): verify measures a host build,
// says so, reports the deployed architecture's sizes and runs that build
// once under qemu when it is installed.
func TestPrepareProject(t *testing.T) {
	dir := t.TempDir()
	other := settings.ARM64
	if settings.HostArch() == settings.ARM64 {
		other = settings.X86_64
	}
	files := map[string]string{
		"go.mod":     "module example.com/fn\n\ngo 1.22\n",
		"main.go":    testenv.EchoFunction(),
		"fnopt.yaml": "name: fn\nlanguage: go\narch: " + string(other) + "\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tg, err := Prepare(ctx, dir, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := os.Stat(filepath.Join(dir, "dist")); !os.IsNotExist(err) {
		t.Errorf("verify wrote into the project's dist/: %v", err)
	}
	if tg.Arch != settings.HostArch() || tg.CrossArch != other || len(tg.Notes) != 1 || !strings.Contains(tg.Notes[0], "measured a "+string(settings.HostArch())) {
		t.Errorf("arch %s, cross %s, notes %q", tg.Arch, tg.CrossArch, tg.Notes)
	}
	archs := map[settings.Arch]int{}
	for _, a := range tg.Artifacts {
		if a.Bytes <= 0 {
			t.Errorf("artifact %+v", a)
		}
		archs[a.Arch]++
	}
	if archs[settings.HostArch()] != 2 || archs[other] != 2 {
		t.Errorf("artifacts %+v, want bootstrap and zip for both architectures", tg.Artifacts)
	}
	o := Options{Samples: 1, Expect: mustExpect(t, DefaultEvent)}
	if runs := measure(t, o, tg); !runs[0].OK() {
		t.Fatal(runs[0].Failure)
	}
	run, err := FunctionalCheck(ctx, tg, o)
	if err != nil {
		t.Fatal(err)
	}
	if QemuPath(other) == "" {
		if run != nil {
			t.Error("functional check without qemu")
		}
		return
	}
	if run == nil || !run.OK() {
		t.Fatalf("functional check under qemu: %+v", run)
	}
}

// TestPrepareProjectWithoutCrossToolchain: a Rust project that deploys to
// the other architecture, on a machine that cannot build for it (here its
// linker is missing, as the aarch64 target often is on x86_64), is
// measured as a host build with a note saying what was skipped and what to
// install, instead of failing after the host build's wait. The deployed
// architecture's sizes are not made up: its zip's budget is unchecked.
func TestPrepareProjectWithoutCrossToolchain(t *testing.T) {
	env := testenv.CargoEnv(t)
	other := settings.ARM64
	if settings.HostArch() == settings.ARM64 {
		other = settings.X86_64
	}
	triple := other.RustTarget()
	linkerVar := "CARGO_TARGET_" + strings.ToUpper(strings.ReplaceAll(triple, "-", "_")) + "_LINKER"
	env = append(env, linkerVar+"=fnopt-test-no-such-linker")
	dir := t.TempDir()
	files := map[string]string{
		"Cargo.toml":  "[package]\nname = \"bootstrap\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"src/main.rs": "fn main() {}\n",
		"fnopt.yaml":  "name: rfn\nlanguage: rust\narch: " + string(other) + "\nbudgets:\n  artifact_bytes: 1000000\n",
	}
	for name, data := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tg, err := Prepare(ctx, dir, PrepareOptions{BuildEnv: env})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if tg.Arch != settings.HostArch() || tg.CrossArch != "" || tg.CrossBootstrap != "" {
		t.Errorf("arch %s, cross %q %q: want a host build and no cross build", tg.Arch, tg.CrossArch, tg.CrossBootstrap)
	}
	// The first note says how the measured Rust bootstrap is linked.
	if len(tg.Notes) != 2 || !strings.Contains(tg.Notes[0], "dynamically linked") || !strings.Contains(tg.Notes[1], "cannot be built here") || !strings.Contains(tg.Notes[1], "fnopt-test-no-such-linker") ||
		!strings.Contains(tg.Notes[1], "its sizes and its run under emulation are skipped") {
		t.Errorf("notes %q: want the linkage, then one saying what was skipped and what is missing", tg.Notes)
	}
	for _, a := range tg.Artifacts {
		if a.Arch != settings.HostArch() {
			t.Errorf("artifact %+v of an architecture that was not built", a)
		}
	}
	if size, why := tg.shippedZip(); size != 0 || why != "the "+string(other)+" zip was not built" {
		t.Errorf("shipped zip %d, %q: want unknown, and why", size, why)
	}
}

// TestLinkMeasured: a project target is built linked as it ships, and
// the report says how.
func TestLinkMeasured(t *testing.T) {
	tests := []struct {
		name   string
		cfg    config.Config
		static bool
		note   string
	}{
		{"Go", config.Config{Language: config.Go, Package: config.Image}, false, ""},
		{"Rust zip", config.Config{Language: config.Rust, Package: config.Zip}, false, "dynamically linked bootstrap (glibc) that the zip ships"},
		{"Rust image", config.Config{Language: config.Rust, Package: config.Image}, true, "ships an image, whose bootstrap fnopt build links statically"},
		{"Rust zip, build.link static", config.Config{Language: config.Rust, Package: config.Zip, Build: config.Build{Link: config.LinkStatic}}, true, "(build.link: static)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shipsStatic(&tt.cfg); got != tt.static {
				t.Errorf("shipsStatic %v, want %v", got, tt.static)
			}
			if got := linkNote(&tt.cfg); tt.note == "" && got != "" || !strings.Contains(got, tt.note) {
				t.Errorf("note %q, want one with %q", got, tt.note)
			}
		})
	}
}
