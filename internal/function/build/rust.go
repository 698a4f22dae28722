package build

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// RustBuild is how cargo is run for the tuned build of a target.
type RustBuild struct {
	Target string   // target triple
	Env    []string // RUSTFLAGS and, when cross-compiling, the linker
	Args   []string // cargo arguments after "cargo"
	// Kept are the tuned profile keys the project's Cargo.toml sets
	// itself to another value, with it ("opt-level = 2"): left to it.
	Kept []string
}

// Rust returns the tuned cargo build for arch. linker is the C linker for
// the target ("" for the host's cc). The release profile comes from
// settings.RustProfile through --config, so a project without fnopt's
// profile in Cargo.toml is still built tuned; --config wins over the
// manifest, so a key the user's profile sets is not passed (Kept names
// it, with the user's value).
func Rust(arch settings.Arch, linker string, static bool, user UserProfile) RustBuild {
	rb := RustBuild{Target: arch.RustTarget()}
	flags := settings.RustFlags(static)
	// RUSTFLAGS replaces the project's own rustflags (.cargo/config.toml),
	// so it is set only when fnopt has flags to pass.
	if len(flags) > 0 {
		rb.Env = append(rb.Env, "RUSTFLAGS="+strings.Join(flags, " "))
	}
	if linker != "" {
		rb.Env = append(rb.Env, linkerVar(rb.Target)+"="+linker)
	}
	rb.Args = []string{"build", "--release", "--target", rb.Target}
	profile, kept := tunedProfileArgs(user)
	rb.Args = append(rb.Args, profile...)
	rb.Kept = kept
	return rb
}

// Command renders the build as a shell command line.
func (rb RustBuild) Command() string {
	var parts []string
	for _, e := range rb.Env {
		k, v, _ := strings.Cut(e, "=")
		parts = append(parts, k+"="+quoteArg(v))
	}
	parts = append(parts, "cargo")
	for _, a := range rb.Args {
		parts = append(parts, quoteArg(a))
	}
	return strings.Join(parts, " ")
}

// linkerVar is cargo's environment variable for a target's linker.
func linkerVar(triple string) string {
	return "CARGO_TARGET_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(triple)) + "_LINKER"
}

// ToolchainError says what is missing to build Rust for a target and how
// to install it.
type ToolchainError struct {
	Target  string
	Missing []string // one sentence per missing piece, with the fix
}

func (e *ToolchainError) Error() string {
	return "cannot build Rust for " + e.Target + ": " + strings.Join(e.Missing, "; ")
}

// CheckRustToolchain checks, without building anything, that cargo, the
// target's standard library and its linker are installed. dir is the
// project (a rust-toolchain file there selects the toolchain); env is
// added to the process's environment. It returns the linker to use (""
// for the host's).
func CheckRustToolchain(ctx context.Context, dir string, arch settings.Arch, env []string) (string, error) {
	target := arch.RustTarget()
	terr := &ToolchainError{Target: target}
	for _, prog := range []string{"cargo", "rustc"} {
		if _, err := exec.LookPath(prog); err != nil {
			terr.Missing = append(terr.Missing, prog+" is not on PATH: install Rust with rustup (https://rustup.rs)")
		}
	}
	if len(terr.Missing) > 0 {
		return "", terr
	}
	// rustc names the folder of the target's standard library whether or
	// not it is installed; it exists only when it is.
	cmd := exec.CommandContext(ctx, "rustc", "--print", "target-libdir", "--target", target)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	libdir := strings.TrimSpace(string(out))
	switch {
	case err != nil:
		line, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		terr.Missing = append(terr.Missing, fmt.Sprintf("rustc does not know the target (%s); check the Rust toolchain with `rustup show`", line))
	case libdir == "" || !hasStd(libdir):
		terr.Missing = append(terr.Missing, fmt.Sprintf("the Rust target %s is not installed (run `rustup target add %s`)", target, target))
	}

	// A linker the user configured for the target wins over ours.
	linker := lookupEnv(env, linkerVar(target))
	if linker == "" {
		linker = arch.RustLinker()
	}
	if linker != "" {
		if _, err := exec.LookPath(linker); err != nil {
			terr.Missing = append(terr.Missing, fmt.Sprintf("the linker %s is not installed (run `apt-get install %s`)", linker, linkerPackage(linker)))
		}
	}
	if len(terr.Missing) > 0 {
		return "", terr
	}
	return linker, nil
}

// lookupEnv returns key's value in env (last entry wins), else in the
// process's environment.
func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return os.Getenv(key)
}

func hasStd(libdir string) bool {
	m, _ := filepath.Glob(filepath.Join(libdir, "libstd-*.rlib"))
	return len(m) > 0
}

// linkerPackage names the Debian package of a cross linker.
func linkerPackage(linker string) string {
	switch linker {
	case "aarch64-linux-gnu-gcc":
		return "gcc-aarch64-linux-gnu"
	case "x86_64-linux-gnu-gcc":
		return "gcc-x86-64-linux-gnu"
	}
	return linker
}

// buildRust checks the toolchain, runs the tuned cargo build and installs
// the binary target as bootstrap.
func buildRust(ctx context.Context, dir string, cfg *config.Config, arch settings.Arch, opts Options) (*Result, error) {
	linker, err := CheckRustToolchain(ctx, dir, arch, opts.Env)
	if err != nil {
		return nil, err
	}
	user, err := ReadUserProfile(dir)
	if err != nil {
		return nil, err
	}
	rb, name, exe, err := cargoBuild(ctx, dir, cfg, opts, Rust(arch, linker, opts.Static, user))
	if err != nil {
		return nil, err
	}

	tmp, err := tempFile(opts.OutDir)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	if err := copyFile(exe, tmp); err != nil {
		return nil, err
	}
	out, size, err := install(tmp, opts.OutDir, arch)
	if err != nil {
		return nil, err
	}
	return &Result{Bootstrap: out, Arch: arch, BinaryBytes: size, Command: rb.Command(), Package: name, KeptProfile: rb.Kept}, nil
}

// cargoBuild runs rb in dir, for fnopt.yaml's build.bin alone when it
// names one, and returns the build as run, with the function's binary
// target: its name and the executable cargo wrote.
func cargoBuild(ctx context.Context, dir string, cfg *config.Config, opts Options, rb RustBuild) (RustBuild, string, string, error) {
	if cfg.Build.Bin != "" {
		// Only the function's binary: the others may not even build for
		// this target.
		rb.Args = append(rb.Args, "--bin", cfg.Build.Bin)
	}
	// Cargo reports what it built as JSON on standard output; diagnostics
	// stay human-readable on standard error.
	args := append(append([]string(nil), rb.Args...), "--message-format=json-render-diagnostics")
	cmd := exec.CommandContext(ctx, "cargo", args...)
	cmd.Dir = dir
	cmd.Env = environ(opts, rb.Env...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := run(ctx, cmd, "cargo build", opts.Log, opts.Verbose); err != nil {
		return rb, "", "", err
	}
	bins, err := cargoBinaries(&stdout)
	if err != nil {
		return rb, "", "", err
	}
	name, exe, err := pickBinary(dir, bins, cfg)
	return rb, name, exe, err
}

// cargoBinaries reads cargo's JSON messages and returns the executables
// of binary targets by target name.
func cargoBinaries(r io.Reader) (map[string]string, error) {
	bins := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var msg struct {
			Reason string `json:"reason"`
			Target struct {
				Name string   `json:"name"`
				Kind []string `json:"kind"`
			} `json:"target"`
			Executable string `json:"executable"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) != nil || msg.Reason != "compiler-artifact" || msg.Executable == "" {
			continue
		}
		for _, k := range msg.Target.Kind {
			if k == "bin" {
				bins[msg.Target.Name] = msg.Executable
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading cargo's output: %w", err)
	}
	return bins, nil
}

// pickBinary chooses the function among the binary targets: the one
// fnopt.yaml's build.bin names, else the only one, or the one named
// bootstrap or after the function.
func pickBinary(dir string, bins map[string]string, cfg *config.Config) (string, string, error) {
	names := make([]string, 0, len(bins))
	for n := range bins {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := cfg.Build.Bin; want != "" {
		if p, ok := bins[want]; ok {
			return want, p, nil
		}
		return "", "", &ProgramError{Dir: dir, Key: cfg.ProgramKey(), Named: want, Choices: names}
	}
	if len(bins) == 1 {
		return names[0], bins[names[0]], nil
	}
	for _, want := range []string{settings.Handler, cfg.Name, strings.ReplaceAll(cfg.Name, "-", "_")} {
		if p, ok := bins[want]; ok {
			return want, p, nil
		}
	}
	if len(bins) == 0 {
		return "", "", fmt.Errorf("%s: cargo built no binary: the function needs a src/main.rs or a [[bin]] target", dir)
	}
	return "", "", &ProgramError{Dir: dir, Key: cfg.ProgramKey(), Choices: names}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copying the built binary: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("copying the built binary: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying the built binary: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copying the built binary: %w", err)
	}
	return nil
}
