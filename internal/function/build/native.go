package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// nativeExecutable is the file name BuildNative gives the executable:
// bootstrap, with .exe on Windows, which runs programs by their extension.
func nativeExecutable(goos string) string {
	if goos == "windows" {
		return settings.Handler + ".exe"
	}
	return settings.Handler
}

// BuildNative compiles the project into an executable of the system fnopt
// runs on, with the tuned flags: what verify runs where Lambda's Linux
// executables cannot (macOS, Windows). It is not an artifact to ship, and
// its start-up compares builds with each other only. Go builds for this
// system's GOOS and GOARCH; Rust for cargo's host target. The executable
// is OutDir/bootstrap (bootstrap.exe on Windows).
func BuildNative(ctx context.Context, dir string, cfg *config.Config, opts Options) (*Result, error) {
	return buildNative(ctx, dir, cfg, opts, runtime.GOOS, runtime.GOARCH)
}

// buildNative is BuildNative for goos and goarch; Go cross-compiles, so
// tests build a macOS executable on Linux. Rust always builds for the
// host.
func buildNative(ctx context.Context, dir string, cfg *config.Config, opts Options, goos, goarch string) (*Result, error) {
	var err error
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("building %s: %w", dir, err)
	}
	if opts.OutDir == "" {
		opts.OutDir = filepath.Join(dir, "dist")
	}
	if opts.OutDir, err = filepath.Abs(opts.OutDir); err != nil {
		return nil, fmt.Errorf("building %s: %w", dir, err)
	}
	tmp, err := tempFile(opts.OutDir)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp) // gone already when the build succeeded
	var command, pkg string
	switch cfg.Language {
	case config.Go:
		command, pkg, err = compileGoNative(ctx, dir, cfg, opts, tmp, goos, goarch)
	case config.Rust:
		command, pkg, err = compileRustNative(ctx, dir, cfg, opts, tmp)
	default:
		return nil, fmt.Errorf("building %s: unsupported language %q: use go or rust", dir, cfg.Language)
	}
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("installing %s: %w", nativeExecutable(goos), err)
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		return nil, fmt.Errorf("installing %s: %w", nativeExecutable(goos), err)
	}
	dst := filepath.Join(opts.OutDir, nativeExecutable(goos))
	if err := os.Rename(tmp, dst); err != nil {
		return nil, fmt.Errorf("installing %s: %w", nativeExecutable(goos), err)
	}
	return &Result{Bootstrap: dst, Arch: settings.HostArch(), BinaryBytes: fi.Size(), Command: command, Package: pkg}, nil
}

// compileGoNative runs the tuned go build for goos/goarch into out.
func compileGoNative(ctx context.Context, dir string, cfg *config.Config, opts Options, out, goos, goarch string) (command, pkg string, err error) {
	if _, err := exec.LookPath("go"); err != nil {
		return "", "", fmt.Errorf("building %s: the go command is not on PATH: install Go from https://go.dev/dl", cfg.Name)
	}
	if pkg, err = FindGoMain(dir, settings.HostArch(), cfg); err != nil {
		return "", "", err
	}
	gb := withUserFlags(settings.GoNative(goos, goarch), cfg.Build)
	args := append([]string{"build"}, gb.Flags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = environ(opts, gb.Env...)
	if err := run(ctx, cmd, "go build", opts.Log, opts.Verbose); err != nil {
		return "", "", err
	}
	return gb.Command(nativeExecutable(goos), pkg), pkg, nil
}

// compileRustNative runs cargo's release build for the host target, with
// the tuned profile as Rust passes it, and copies the binary to out.
func compileRustNative(ctx context.Context, dir string, cfg *config.Config, opts Options, out string) (command, pkg string, err error) {
	if _, err := exec.LookPath("cargo"); err != nil {
		return "", "", &ToolchainError{Target: "this system", Missing: []string{"cargo is not on PATH: install Rust with rustup (https://rustup.rs)"}}
	}
	user, err := ReadUserProfile(dir)
	if err != nil {
		return "", "", err
	}
	profile, _ := tunedProfileArgs(user)
	rb, name, exe, err := cargoBuild(ctx, dir, cfg, opts, RustBuild{Args: append([]string{"build", "--release"}, profile...)})
	if err != nil {
		return "", "", err
	}
	if err := copyFile(exe, out); err != nil {
		return "", "", err
	}
	return strings.TrimSpace(rb.Command()), name, nil
}
