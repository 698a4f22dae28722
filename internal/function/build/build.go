// Package build compiles a function project into the Lambda custom
// runtime's executable, dist/bootstrap, with fnopt's tuned settings
// (internal/function/settings) for the chosen architecture.
//
// A build never leaves a half-written bootstrap behind: the compiler writes
// to a temporary file next to it that is renamed into place only when the
// binary is complete and checked to be an ELF for the right machine.
package build

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// Options change how a project is built.
type Options struct {
	// Arch overrides the configuration's architecture; zero keeps it.
	Arch settings.Arch
	// OutDir receives the bootstrap; default DIR/dist.
	OutDir string
	// FinalDir is where the caller moves the bootstrap afterwards when
	// OutDir is a staging folder; Result.Command names it, so the command
	// line (and what records it, like image labels) does not depend on a
	// temporary name. Default OutDir.
	FinalDir string
	// Log receives the compiler's output as it runs when Verbose is set.
	// Without Verbose nothing is written to it: a failed compile's output
	// is in its *CompileError, which carries it to whoever reports the
	// error. Nil discards it.
	Log io.Writer
	// Verbose streams the compiler's output to Log as it runs.
	Verbose bool
	// Static links the C runtime statically where the language would
	// otherwise link it dynamically (Rust on glibc): for an image with no
	// base, which has no loader or libc. Go builds are always static.
	Static bool
	// Env is added to the compiler's environment (after the process's,
	// before the tuned settings, which win).
	Env []string
}

// Result describes a finished build.
type Result struct {
	// Bootstrap is the path of the executable written.
	Bootstrap string
	// Arch is the architecture built for.
	Arch settings.Arch
	// BinaryBytes is the size of Bootstrap.
	BinaryBytes int64
	// Command is the build as a shell command line, with the tuned
	// environment and flags, relative to the project folder.
	Command string
	// Package is what was compiled: the Go package path (./cmd/x) or the
	// Cargo binary target's name.
	Package string
	// KeptProfile are the tuned Cargo [profile.release] keys the project
	// sets itself to another value, left to it, as "key = value" (Rust
	// only).
	KeptProfile []string
}

// Build compiles the project in dir described by cfg into OutDir/bootstrap.
func Build(ctx context.Context, dir string, cfg *config.Config, opts Options) (*Result, error) {
	arch := opts.Arch
	if arch == "" {
		arch = cfg.Architecture()
	}
	if opts.OutDir == "" {
		opts.OutDir = filepath.Join(dir, "dist")
	}
	// The compilers run in dir: every path handed to them must not
	// depend on the working directory.
	var err error
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("building %s: %w", dir, err)
	}
	if opts.OutDir, err = filepath.Abs(opts.OutDir); err != nil {
		return nil, fmt.Errorf("building %s: %w", dir, err)
	}
	if opts.FinalDir != "" {
		if opts.FinalDir, err = filepath.Abs(opts.FinalDir); err != nil {
			return nil, fmt.Errorf("building %s: %w", dir, err)
		}
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	var res *Result
	switch cfg.Language {
	case "go":
		res, err = buildGo(ctx, dir, cfg, arch, opts)
	case "rust":
		res, err = buildRust(ctx, dir, cfg, arch, opts)
	default:
		return nil, fmt.Errorf("building %s: unsupported language %q: use go or rust", dir, cfg.Language)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// CompileError is a compiler that ran and failed. It carries the
// compiler's output whatever the caller did with Options.Log, so that
// every command that builds (build, verify, the gate, optimize) shows it
// the same way: Details, printed above the error's one line.
type CompileError struct {
	Tool   string // "go build", "cargo build"
	Output []byte
	Err    error
	// Streamed is true when Output was written to Options.Log as the
	// compiler ran (Verbose): it has been shown already.
	Streamed bool
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%s failed (%v): fix the errors in the compiler output above", e.Tool, e.Err)
}

func (e *CompileError) Unwrap() error { return e.Err }

// Details is the compiler's output when it has not been shown yet, for
// the line of Error to point at.
func (e *CompileError) Details() string {
	if e.Streamed {
		return ""
	}
	return string(e.Output)
}

// run executes cmd with its standard error (and standard output unless
// cmd.Stdout is already set) captured. With verbose the output is also
// streamed to log; a failure returns it in a *CompileError either way.
func run(ctx context.Context, cmd *exec.Cmd, tool string, log io.Writer, verbose bool) error {
	var out bytes.Buffer
	w := io.Writer(&out)
	if verbose {
		w = io.MultiWriter(&out, log)
	}
	if cmd.Stdout == nil {
		cmd.Stdout = w
	}
	cmd.Stderr = w
	err := RunCompiler(cmd)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		// Killed because the build was cancelled (Ctrl-C): not the
		// compiler's fault, and its partial output means nothing.
		return fmt.Errorf("%s interrupted: %w", tool, ctx.Err())
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return fmt.Errorf("running %s: %w", tool, err)
	}
	return &CompileError{Tool: tool, Output: out.Bytes(), Err: err, Streamed: verbose}
}

// install checks that tmp is an executable for arch, makes it 0755 and
// renames it to outDir/bootstrap.
func install(tmp, outDir string, arch settings.Arch) (string, int64, error) {
	if err := checkELF(tmp, arch); err != nil {
		return "", 0, err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", 0, fmt.Errorf("installing bootstrap: %w", err)
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		return "", 0, fmt.Errorf("installing bootstrap: %w", err)
	}
	dst := filepath.Join(outDir, settings.Handler)
	if err := os.Rename(tmp, dst); err != nil {
		return "", 0, fmt.Errorf("installing bootstrap: %w", err)
	}
	return dst, fi.Size(), nil
}

// checkELF makes sure the compiler produced what Lambda will execute: a
// Linux executable for the function's architecture.
func checkELF(path string, arch settings.Arch) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("checking the built binary: %w", err)
	}
	defer f.Close()
	if f.Machine != arch.ELFMachine() {
		return fmt.Errorf("the built binary is for %v, not %s: check the project's build configuration", f.Machine, arch)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("the built binary is a %v, not an executable", f.Type)
	}
	return checkGlibc(f)
}

// tempFile reserves a temporary file name in outDir for the compiler to
// write to; remove it when the build is over.
func tempFile(outDir string) (string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", outDir, err)
	}
	f, err := os.CreateTemp(outDir, ".bootstrap.tmp-*")
	if err != nil {
		return "", fmt.Errorf("creating a temporary file in %s: %w", outDir, err)
	}
	name := f.Name()
	f.Close()
	return name, nil
}

// environ is the process environment, then the caller's entries, then the
// tuned ones; for duplicate keys os/exec uses the last, so tuned wins.
func environ(opts Options, tuned ...string) []string {
	env := append(os.Environ(), opts.Env...)
	return append(env, tuned...)
}

// quoteArg quotes a shell argument when it needs it, for Result.Command.
func quoteArg(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"'$\\*?[]{}()<>|&;#") {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return s
}
