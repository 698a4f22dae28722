package build

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

func goConfig(arch settings.Arch) *config.Config {
	return &config.Config{Name: "fn", Language: "go", Arch: arch, Package: "zip"}
}

func TestFindGoMain(t *testing.T) {
	lib := "package lib\n"
	main := "package main\nfunc main() {}\n"
	cases := []struct {
		name    string
		files   map[string]string
		want    string
		wantErr string
		build   config.Build
	}{
		{"root", map[string]string{"main.go": main}, ".", "", config.Build{}},
		{"one under cmd", map[string]string{"lib.go": lib, "cmd/fn/main.go": main}, "./cmd/fn", "", config.Build{}},
		{"several, one named after the function", map[string]string{"cmd/tool/main.go": main, "cmd/fn/main.go": main}, "./cmd/fn", "", config.Build{}},
		{"several, one named bootstrap", map[string]string{"cmd/tool/main.go": main, "cmd/bootstrap/main.go": main}, "./cmd/bootstrap", "", config.Build{}},
		{"several, none chosen", map[string]string{"cmd/a/main.go": main, "cmd/b/main.go": main}, "", "several main packages (./cmd/a, ./cmd/b): name the function's one in fnopt.yaml, as build.main: ./cmd/a", config.Build{}},
		{"none", map[string]string{"lib.go": lib}, "", "no main package", config.Build{}},
		// A main file that Linux builds do not see does not count.
		{"main only on windows", map[string]string{"lib.go": lib, "cmd/fn/main.go": "//go:build windows\n\n" + main}, "", "no main package", config.Build{}},
		// fnopt.yaml's build.main wins over every rule above, relative to
		// the project folder, with or without ./.
		{"named by build.main", map[string]string{"main.go": main, "cmd/a/main.go": main}, "./cmd/a", "", config.Build{Main: "cmd/a"}},
		{"build.main in a sibling folder", map[string]string{"fn/lib.go": lib, "cmd/a/main.go": main}, "../cmd/a", "", config.Build{Main: "../cmd/a"}},
		{"build.main not a main package", map[string]string{"main.go": main, "lib/lib.go": lib}, "", `build.main "./lib" is not a folder with package main`, config.Build{Main: "./lib"}},
		// A main file behind a tag fnopt.yaml adds is seen.
		{"main behind a build.tags tag", map[string]string{"lib.go": lib, "cmd/fn/main.go": "//go:build orders\n\n" + main}, "./cmd/fn", "", config.Build{Tags: []string{"orders"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, c.files)
			if strings.HasPrefix(c.build.Main, "../") {
				dir = filepath.Join(dir, "fn")
			}
			got, err := FindGoMain(dir, settings.ARM64, &config.Config{Name: "fn", Build: c.build})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("FindGoMain = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestBuildGo(t *testing.T) {
	cases := []struct {
		name   string
		arch   settings.Arch
		layout string // where main.go goes
	}{
		{"arm64 root", settings.ARM64, "main.go"},
		{"x86_64 cmd", settings.X86_64, "cmd/fn/main.go"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, map[string]string{"go.mod": goMod, c.layout: goFunction})
			var log bytes.Buffer
			res, err := Build(context.Background(), dir, goConfig(c.arch), Options{Log: &log})
			if err != nil {
				t.Fatalf("Build: %v\n%s", err, log.String())
			}
			if res.Bootstrap != filepath.Join(dir, "dist", "bootstrap") || res.Arch != c.arch {
				t.Errorf("result %+v", res)
			}
			for _, want := range []string{"CGO_ENABLED=0", "GOARCH=" + c.arch.GOARCH(), "-trimpath", settings.GoTags, "-o dist/bootstrap"} {
				if !strings.Contains(res.Command, want) {
					t.Errorf("Command %q lacks %q", res.Command, want)
				}
			}
			f, err := elf.Open(res.Bootstrap)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != c.arch.ELFMachine() {
				t.Errorf("machine %v, want %v", f.Machine, c.arch.ELFMachine())
			}
			// -s -w: no symbol table.
			if f.Section(".symtab") != nil {
				t.Error("binary has a symbol table: not stripped")
			}
			fi, err := os.Stat(res.Bootstrap)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o755 || fi.Size() != res.BinaryBytes {
				t.Errorf("bootstrap mode %v size %d, result says %d", fi.Mode(), fi.Size(), res.BinaryBytes)
			}
			assertOnlyBootstrap(t, filepath.Join(dir, "dist"))

			// The same source in another folder gives the same bytes.
			first, _ := os.ReadFile(res.Bootstrap)
			dir2 := t.TempDir()
			testenv.WriteFiles(t, dir2, map[string]string{"go.mod": goMod, c.layout: goFunction})
			res2, err := Build(context.Background(), dir2, goConfig(c.arch), Options{})
			if err != nil {
				t.Fatal(err)
			}
			second, _ := os.ReadFile(res2.Bootstrap)
			if !bytes.Equal(first, second) {
				t.Error("two builds of the same source differ")
			}
		})
	}
}

func TestBuildGoFailures(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string
		wantErr string
		wantLog string
	}{
		{"compile error", map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() { undefinedThing() }\n"}, "go build failed", "undefined: undefinedThing"},
		{"no main package", map[string]string{"go.mod": goMod, "lib.go": "package lib\n"}, "no main package", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, c.files)
			// A previous good build's bootstrap must survive a failed one.
			dist := filepath.Join(dir, "dist")
			testenv.WriteFiles(t, dist, map[string]string{"bootstrap": "old"})
			var log bytes.Buffer
			_, err := Build(context.Background(), dir, goConfig(settings.X86_64), Options{Log: &log})
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is several lines: %q", err)
			}
			// Not verbose: the output is not written to the log, but
			// carried by the error to whoever reports it.
			if log.Len() != 0 {
				t.Errorf("log written without Verbose: %q", log.String())
			}
			var ce *CompileError
			if c.wantLog != "" && (!errors.As(err, &ce) || !strings.Contains(ce.Details(), c.wantLog)) {
				t.Errorf("err %T does not carry the compiler output", err)
			}
			if got, _ := os.ReadFile(filepath.Join(dist, "bootstrap")); string(got) != "old" {
				t.Errorf("previous bootstrap replaced by %d bytes", len(got))
			}
			assertOnlyBootstrap(t, dist)
		})
	}
}

// assertOnlyBootstrap fails when dist holds anything but bootstrap: a
// build must not leave temporary files behind.
func assertOnlyBootstrap(t *testing.T, dist string) {
	t.Helper()
	ents, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "bootstrap" {
			t.Errorf("%s left in dist", e.Name())
		}
	}
}

func TestRustMissingTargetReportedFirst(t *testing.T) {
	arch := settings.ARM64
	if settings.HostArch() == settings.ARM64 {
		arch = settings.X86_64
	}
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, rustFiles)
	env := testenv.CargoEnv(t)
	if _, err := CheckRustToolchain(context.Background(), dir, arch, env); err == nil {
		t.Skipf("the %s toolchain and linker are installed here: nothing is missing", arch.RustTarget())
	}
	cfg := &config.Config{Name: "rusty", Language: "rust", Arch: arch, Package: "zip"}
	_, err := Build(context.Background(), dir, cfg, Options{Env: env})
	var terr *ToolchainError
	if !errors.As(err, &terr) {
		t.Fatalf("err = %v, want a ToolchainError", err)
	}
	msg := err.Error()
	target := arch.RustTarget()
	if hasTarget(t, target) {
		if !strings.Contains(msg, "apt-get install gcc-") {
			t.Errorf("error %q does not say how to install the linker", msg)
		}
	} else if !strings.Contains(msg, "rustup target add "+target) {
		t.Errorf("error %q does not say `rustup target add %s`", msg, target)
	}
	// Nothing was built: cargo never ran.
	for _, p := range []string{"target", "dist", "Cargo.lock"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("%s exists: something was built before the toolchain check", p)
		}
	}
}

func hasTarget(t *testing.T, target string) bool {
	out, err := testenv.Command(t.TempDir(), nil, "rustc", "--print", "target-libdir", "--target", target).Output()
	return err == nil && hasStd(strings.TrimSpace(string(out)))
}

func TestBuildRustOffline(t *testing.T) {
	if settings.HostArch() != settings.X86_64 {
		t.Skip("the Rust fixture is built natively for x86_64")
	}
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, rustFiles)
	cfg := &config.Config{Name: "rusty", Language: "rust", Arch: "x86_64", Package: "zip"}
	var log bytes.Buffer
	res, err := Build(context.Background(), dir, cfg, Options{Env: testenv.CargoEnv(t), Log: &log})
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, log.String())
	}
	if res.Package != "rusty" {
		t.Errorf("package %q, want rusty", res.Package)
	}
	wants := []string{"cargo build --release --target x86_64-unknown-linux-gnu"}
	for _, k := range settings.RustProfile() {
		wants = append(wants, "profile.release."+k.Key+"=")
	}
	flags := strings.Join(settings.RustRustflags(), " ")
	if flags != "" {
		wants = append(wants, "RUSTFLAGS='"+flags+"'")
	} else if strings.Contains(res.Command, "RUSTFLAGS") {
		t.Errorf("Command %q sets RUSTFLAGS without flags to pass", res.Command)
	}
	for _, want := range wants {
		if !strings.Contains(res.Command, want) {
			t.Errorf("Command %q lacks %q", res.Command, want)
		}
	}
	f, err := elf.Open(res.Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("machine %v", f.Machine)
	}
	// The settings decide static or dynamic C runtime; the binary must
	// follow them (crt-static: no program interpreter).
	static := strings.Contains(flags, "crt-static")
	interp := testenv.HasInterp(f)
	if interp == static {
		t.Errorf("binary has PT_INTERP %v with RUSTFLAGS %q", interp, flags)
	}
	// The tuned profile applies even though the fixture's Cargo.toml has
	// none: strip=true leaves no symbol table.
	if f.Section(".symtab") != nil {
		t.Error("binary has a symbol table: the release profile was not applied")
	}
	out, err := testenv.Command(dir, nil, res.Bootstrap).Output()
	if err != nil || strings.TrimSpace(string(out)) != `{"ok":true}` {
		t.Errorf("running bootstrap: %q, %v", out, err)
	}
	assertOnlyBootstrap(t, filepath.Join(dir, "dist"))
}

// A Rust project with two binaries builds the one fnopt.yaml's build.bin
// names, and the profile values its Cargo.toml sets survive: strip =
// false leaves the symbol table fnopt's tuned strip = true would remove,
// and neither key is passed to cargo.
func TestBuildRustBinAndUserProfile(t *testing.T) {
	if settings.HostArch() != settings.X86_64 {
		t.Skip("the Rust fixture is built natively for x86_64")
	}
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{
		"Cargo.toml": "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n" +
			"[[bin]]\nname = \"orders\"\npath = \"src/orders.rs\"\n\n[[bin]]\nname = \"payments\"\npath = \"src/payments.rs\"\n\n" +
			"[profile.release]\nopt-level = 2\nstrip = false\n",
		"src/orders.rs":   "fn main() { println!(\"orders\"); }\n",
		"src/payments.rs": "fn main() { println!(\"payments\"); }\n",
	})
	for _, bin := range []string{"orders", "payments"} {
		cfg := &config.Config{Name: "shop", Language: "rust", Arch: "x86_64", Package: "zip", Build: config.Build{Bin: bin}}
		var log bytes.Buffer
		res, err := Build(context.Background(), dir, cfg, Options{Env: testenv.CargoEnv(t), Log: &log, OutDir: filepath.Join(dir, "dist-"+bin)})
		if err != nil {
			t.Fatalf("Build %s: %v\n%s", bin, err, log.String())
		}
		out, err := testenv.Command(dir, nil, res.Bootstrap).Output()
		if err != nil || strings.TrimSpace(string(out)) != bin || res.Package != bin {
			t.Errorf("build.bin %s: package %q, bootstrap printed %q (%v)", bin, res.Package, out, err)
		}
		if want := []string{"opt-level = 2", "strip = false"}; !reflect.DeepEqual(res.KeptProfile, want) {
			t.Errorf("kept %q, want %q", res.KeptProfile, want)
		}
		if !strings.Contains(res.Command, "--bin "+bin) || strings.Contains(res.Command, "opt-level") || strings.Contains(res.Command, "strip") {
			t.Errorf("command %q: want --bin %s and no opt-level or strip override", res.Command, bin)
		}
		f, err := elf.Open(res.Bootstrap)
		if err != nil {
			t.Fatal(err)
		}
		if f.Section(".symtab") == nil {
			t.Errorf("%s has no symbol table: the project's strip = false was overridden", bin)
		}
		f.Close()
	}
}

func TestPickBinary(t *testing.T) {
	cases := []struct {
		name    string
		bins    map[string]string
		want    string
		wantErr string
		bin     string // fnopt.yaml's build.bin
	}{
		{"only one", map[string]string{"x": "/t/x"}, "x", "", ""},
		{"bootstrap", map[string]string{"x": "/t/x", "bootstrap": "/t/b"}, "bootstrap", "", ""},
		{"named after the function", map[string]string{"x": "/t/x", "my_fn": "/t/f"}, "my_fn", "", ""},
		{"none", map[string]string{}, "", "built no binary", ""},
		{"ambiguous", map[string]string{"x": "/t/x", "y": "/t/y"}, "", "several binary targets (x, y): name the function's one in fnopt.yaml, as build.bin: x", ""},
		{"named by build.bin over bootstrap", map[string]string{"x": "/t/x", "bootstrap": "/t/b"}, "x", "", "x"},
		{"build.bin not built", map[string]string{"x": "/t/x", "y": "/t/y"}, "", `build.bin "z" is not one of the project's binary targets (x, y)`, "z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := pickBinary("/p", c.bins, &config.Config{Name: "my-fn", Language: config.Rust, Build: config.Build{Bin: c.bin}})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestBuildCancelled(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{"go.mod": goMod, "main.go": goFunction})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, dir, goConfig(settings.ARM64), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "dist"))
	for _, e := range ents {
		t.Errorf("dist/%s left by a cancelled build", e.Name())
	}
}
