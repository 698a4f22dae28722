package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/artifact"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/procgroup"
)

// Variant is one way of building a function that the benchmark measures.
type Variant struct {
	// Name labels the row of the table ("go-plain").
	Name string
	// What says in a few words what was built and how.
	What string
	// Expect is the answer to verify.DefaultEvent (JSON, as --expect),
	// checked once before measuring: a fast wrong answer is no result.
	Expect string
	// Linkage is how the bootstrap is linked; each row is also compared
	// with the C floor of its linkage (ownFloor).
	Linkage Linkage
	// Build writes an executable bootstrap for this machine into out and
	// returns the command that did it.
	Build func(ctx context.Context, w *workspace, out string) (string, error)
}

// Linkage is how a bootstrap is linked, which decides what the kernel and
// the C library do before main: a dynamic loader, glibc's or musl's own
// start-up, or a Go runtime.
type Linkage string

const (
	GlibcDynamic Linkage = "glibc-dynamic" // ld.so maps libc.so.6 and relocates
	GlibcStatic  Linkage = "glibc-static"  // no loader, glibc's own start-up
	MuslStatic   Linkage = "musl-static"   // no loader, musl's minimal start-up
	GoStatic     Linkage = "go-static"     // static Go, no C library at all
)

// ownFloor is the C floor a row of linkage l is compared with: the same
// program (examples/floor/floor.c) linked the same way. A static Go
// binary has no C library; its closest C kind is the static musl floor
// (no loader, next to no libc start-up), and the Go rows are also
// compared with go-floor, the Go runtime's own start.
func ownFloor(l Linkage) string {
	switch l {
	case GlibcDynamic:
		return floorGlibcDynamic
	case GlibcStatic:
		return floorGlibcStatic
	}
	return floorName
}

// Built is a variant after building: the bootstrap that runs and the zip
// that would ship.
type Built struct {
	Variant
	Command     string
	Bootstrap   string
	BinaryBytes int64
	ZipBytes    int64
}

// Names of the rows the targets are stated against.
const (
	baselineName      = "go-plain"
	goFloorName       = "go-floor"
	floorName         = "floor-musl-static" // the least any custom runtime can do
	floorGlibcStatic  = "floor-glibc-static"
	floorGlibcDynamic = "floor-glibc-dynamic"
)

// variants are the rows of the benchmark, in table order. The Go
// official hello is the same source in the first two rows: only how it is
// built differs.
func variants() []Variant {
	return []Variant{
		{
			Name:    baselineName,
			Linkage: GoStatic,
			Expect:  `{"message":"Hello, world!"}`,
			What:    "examples/go-official (aws-lambda-go), plain `go build`, as tutorials and SAM's Go builder do",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				return w.plainGo(ctx, "go-official", out)
			},
		},
		{
			Name:    "go-tuned",
			Linkage: GoStatic,
			Expect:  `{"message":"Hello, world!"}`,
			What:    "the same code built by fnopt (internal/function/settings: -trimpath, -tags lambda.norpc, -ldflags \"-s -w -buildid=\")",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				return w.fnoptBuild(ctx, "go-official", out, nil)
			},
		},
		{
			Name:    "go-minimal",
			Linkage: GoStatic,
			Expect:  `{"message":"Hello, world!"}`,
			What:    "examples/go-minimal: standard-library runtime client, fnopt's tuned build",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				return w.fnoptBuild(ctx, "go-minimal", out, nil)
			},
		},
		{
			Name:    "rust-minimal",
			Linkage: GlibcDynamic,
			Expect:  `{"message":"Hello, world!"}`,
			What:    "examples/rust-minimal: serde_json and a std-only runtime client, fnopt's tuned release profile",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				env, err := w.cargoEnv("cargo-target")
				if err != nil {
					return "", err
				}
				return w.fnoptBuild(ctx, "rust-minimal", out, env)
			},
		},
		{
			Name:    "rust-static",
			Linkage: GlibcStatic,
			Expect:  `{"message":"Hello, world!"}`,
			What:    "rust-minimal with glibc linked statically (RUSTFLAGS=\"-C target-feature=+crt-static\"), as fnopt.yaml's build.link: static builds it: fnopt's opt-in, not its default (see docs/rust.md)",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				env, err := w.cargoEnv("cargo-target-static")
				if err != nil {
					return "", err
				}
				env = append(env, "RUSTFLAGS=-C target-feature=+crt-static")
				cmd, err := w.fnoptBuild(ctx, "rust-minimal", out, env)
				return "RUSTFLAGS=\"-C target-feature=+crt-static\" " + cmd, err
			},
		},
		{
			Name:    goFloorName,
			Linkage: GoStatic,
			Expect:  `{"ok":true}`,
			What:    "examples/floor/gofloor: floor.c in Go with raw system calls, fnopt's tuned build: the Go runtime's own start-up, the least any Go function costs",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				return w.goFloor(ctx, out)
			},
		},
		{
			Name:    floorGlibcDynamic,
			Linkage: GlibcDynamic,
			Expect:  `{"ok":true}`,
			What:    "examples/floor/floor.c: raw sockets, no allocation, glibc linked dynamically (as Rust on the gnu target)",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				return w.floor(ctx, out, GlibcDynamic)
			},
		},
		{
			Name:    floorGlibcStatic,
			Linkage: GlibcStatic,
			Expect:  `{"ok":true}`,
			What:    "examples/floor/floor.c, glibc linked statically",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				return w.floor(ctx, out, GlibcStatic)
			},
		},
		{
			Name:    floorName,
			Linkage: MuslStatic,
			Expect:  `{"ok":true}`,
			What:    "examples/floor/floor.c, musl linked statically: the least any custom runtime can do",
			Build: func(ctx context.Context, w *workspace, out string) (string, error) {
				return w.floor(ctx, out, MuslStatic)
			},
		},
	}
}

// workspace is where the benchmark copies and builds the examples, so
// nothing is written into the source tree.
type workspace struct {
	examples string // the repository's examples folder
	dir      string // a temporary folder of the run's own
	cache    string // persistent cache (cargo's target folder); "" for none
	log      io.Writer
}

// project copies examples/name into the workspace and returns the copy.
func (w *workspace) project(name string) (string, error) {
	dst := filepath.Join(w.dir, "src", name)
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := os.CopyFS(dst, os.DirFS(filepath.Join(w.examples, name))); err != nil {
		return "", fmt.Errorf("copying examples/%s: %w", name, err)
	}
	// Build output a developer left in the example must not be measured.
	for _, d := range []string{"dist", "target"} {
		if err := os.RemoveAll(filepath.Join(dst, d)); err != nil {
			return "", err
		}
	}
	return dst, nil
}

// plainGo builds examples/name the way most tutorials and SAM's default Go
// builder do: `go build` with no flags. CGO_ENABLED=0 is what a
// cross-compiling tutorial gets by default and what SAM sets, so the
// binary is static like the tuned one; only the flags differ.
func (w *workspace) plainGo(ctx context.Context, name, out string) (string, error) {
	dir, err := w.project(name)
	if err != nil {
		return "", err
	}
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + settings.HostArch().GOARCH()}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if err := runTool(cmd, w.log); err != nil {
		return "", fmt.Errorf("plain go build of examples/%s: %w", name, err)
	}
	return strings.Join(env, " ") + " go build -o bootstrap .", nil
}

// fnoptBuild builds examples/name as `fnopt build` does (dist.Produce),
// for this machine's architecture, and moves the bootstrap to out. The
// build goes to the copy's own dist/, so the command line it returns names
// dist/bootstrap as fnopt build prints it.
func (w *workspace) fnoptBuild(ctx context.Context, name, out string, env []string) (string, error) {
	dir, err := w.project(name)
	if err != nil {
		return "", err
	}
	res, err := dist.Produce(ctx, dir, dist.Options{
		Arch:    settings.HostArch(),
		Package: "zip", // the benchmark measures the bootstrap and the zip
		Log:     w.log,
		Env:     env,
	})
	if err != nil {
		return "", fmt.Errorf("building examples/%s: %w", name, err)
	}
	if err := os.Rename(res.Bootstrap.Path, out); err != nil {
		return "", err
	}
	return res.Command, nil
}

// goFloor builds examples/floor/gofloor (a package of the fnopt module)
// with the tuned Go settings.
func (w *workspace) goFloor(ctx context.Context, out string) (string, error) {
	gb := settings.Go(settings.HostArch())
	args := append(append([]string{"build"}, gb.Flags...), "-o", out, "./floor/gofloor")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = w.examples
	cmd.Env = append(os.Environ(), gb.Env...)
	if err := runTool(cmd, w.log); err != nil {
		return "", fmt.Errorf("building examples/floor/gofloor: %w", err)
	}
	return gb.Command("bootstrap", "./examples/floor/gofloor"), nil
}

// floor compiles examples/floor/floor.c with the given linkage: gcc for
// glibc (dynamic: the distribution's default PIE; static: -static) and
// musl-gcc for musl.
func (w *workspace) floor(ctx context.Context, out string, l Linkage) (string, error) {
	src := filepath.Join(w.examples, "floor", "floor.c")
	cc, args := "gcc", []string{"-O2", "-s"}
	switch l {
	case GlibcDynamic:
	case GlibcStatic:
		args = append(args, "-static")
	case MuslStatic:
		cc, args = "musl-gcc", append(args, "-static")
	default:
		return "", fmt.Errorf("no C floor for linkage %s", l)
	}
	cmd := exec.CommandContext(ctx, cc, append(args, "-o", out, src)...)
	if err := runTool(cmd, w.log); err != nil {
		return "", fmt.Errorf("compiling examples/floor/floor.c with %s (make setup installs gcc and musl-tools): %w", cc, err)
	}
	return cc + " " + strings.Join(args, " ") + " -o bootstrap floor.c", nil
}

// cargoEnv makes cargo build offline against Debian's packaged crate
// sources (make setup installs them), as internal/testenv.CargoEnv does
// for the tests: a CARGO_HOME whose configuration replaces crates.io.
// CARGO_HOME and the target folder (targetDir, one per set of RUSTFLAGS,
// which invalidate each other's builds) live in the cache, so a second run
// does not rebuild serde.
func (w *workspace) cargoEnv(targetDir string) ([]string, error) {
	const crates = "/usr/share/cargo/registry"
	if _, err := exec.LookPath("cargo"); err != nil {
		return nil, fmt.Errorf("cargo not found: install Rust with rustup (https://rustup.rs)")
	}
	if _, err := os.Stat(crates); err != nil {
		return nil, fmt.Errorf("%s missing: run `make setup` (it installs the Debian crate sources)", crates)
	}
	base := w.cache
	if base == "" {
		base = w.dir
	}
	home := filepath.Join(base, "cargo-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, err
	}
	cfg := "[source.crates-io]\nreplace-with = \"debian\"\n\n[source.debian]\ndirectory = \"" + crates + "\"\n\n[net]\noffline = true\n"
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	env := []string{"CARGO_HOME=" + home, "CARGO_TARGET_DIR=" + filepath.Join(base, targetDir)}
	if os.Getenv("RUSTUP_HOME") == "" {
		if h, err := os.UserHomeDir(); err == nil {
			env = append(env, "RUSTUP_HOME="+filepath.Join(h, ".rustup"))
		}
	}
	return env, nil
}

// runTool runs cmd; its output goes to log, and into the error when it
// fails. The command gets a process group of its own, killed whole when the
// context ends (Ctrl-C), so no compiler child outlives the benchmark.
func runTool(cmd *exec.Cmd, log io.Writer) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	procgroup.Set(cmd)
	cmd.Cancel = func() error { return procgroup.Kill(cmd.Process) }
	err := cmd.Run()
	if log != nil {
		_, _ = log.Write(out.Bytes())
	}
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(lastLines(out.String(), 15)))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// buildAll builds every variant into the workspace and zips it as it
// would ship.
func buildAll(ctx context.Context, w *workspace, vs []Variant) ([]Built, error) {
	var out []Built
	for _, v := range vs {
		dir := filepath.Join(w.dir, "out", v.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		bin := filepath.Join(dir, "bootstrap")
		command, err := v.Build(ctx, w, bin)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Name, err)
		}
		st, err := os.Stat(bin)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Name, err)
		}
		zipBytes, err := artifact.WriteZip(bin, filepath.Join(dir, "function.zip"))
		if err != nil {
			return nil, fmt.Errorf("%s: zipping: %w", v.Name, err)
		}
		out = append(out, Built{Variant: v, Command: command, Bootstrap: bin, BinaryBytes: st.Size(), ZipBytes: zipBytes})
	}
	return out, nil
}
