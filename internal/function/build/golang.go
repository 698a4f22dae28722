package build

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// buildGo runs `go build` with the tuned settings on the project's main
// package.
func buildGo(ctx context.Context, dir string, cfg *config.Config, arch settings.Arch, opts Options) (*Result, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return nil, fmt.Errorf("building %s: the go command is not on PATH: install Go from https://go.dev/dl", cfg.Name)
	}
	pkg, err := FindGoMain(dir, arch, cfg.Name)
	if err != nil {
		return nil, err
	}
	gb := settings.Go(arch)
	tmp, err := tempFile(opts.OutDir)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp) // gone already when the build succeeded

	args := append([]string{"build"}, gb.Flags...)
	args = append(args, "-o", tmp, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = environ(opts, gb.Env...)
	if err := run(ctx, cmd, "go build", opts.Log, opts.Verbose); err != nil {
		return nil, err
	}
	out, size, err := install(tmp, opts.OutDir, arch)
	if err != nil {
		return nil, err
	}
	final := filepath.Join(opts.FinalDir, settings.Handler)
	if opts.FinalDir == "" {
		final = out
	}
	rel, err := filepath.Rel(dir, final)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = final
	}
	return &Result{
		Bootstrap:   out,
		Arch:        arch,
		BinaryBytes: size,
		Command:     gb.Command(rel, pkg),
		Package:     pkg,
	}, nil
}

// errNoMain is wrapped by FindGoMain when no main package is found.
var errNoMain = errors.New("no main package")

// FindGoMain finds the package to build in a Go project: the root folder
// when it is package main, otherwise the one main package under cmd/
// (cmd/NAME or cmd/bootstrap when there are several). Build constraints
// are evaluated for Linux on arch, as the build will see them.
func FindGoMain(dir string, arch settings.Arch, name string) (string, error) {
	bctx := build.Default
	bctx.GOOS = "linux"
	bctx.GOARCH = arch.GOARCH()
	bctx.CgoEnabled = false
	bctx.BuildTags = []string{settings.GoTags}
	// A source file that is not a regular file (a named pipe would block
	// the read forever, and the compiler's after it) is refused by name.
	var notFile error
	bctx.OpenFile = func(path string) (io.ReadCloser, error) {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			err := fmt.Errorf("%s: %s is not a regular file (%v): replace it with the source file", dir, filepath.ToSlash(rel), fi.Mode().Type())
			if notFile == nil {
				notFile = err
			}
			return nil, err
		}
		return os.Open(path)
	}

	isMain := func(d string) bool {
		p, err := bctx.ImportDir(d, 0)
		return err == nil && p.Name == "main"
	}
	if isMain(dir) {
		return ".", nil
	}
	if notFile != nil {
		return "", notFile
	}
	ents, err := os.ReadDir(filepath.Join(dir, "cmd"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("looking for the main package: %w", err)
	}
	var mains []string
	for _, e := range ents {
		if e.IsDir() && isMain(filepath.Join(dir, "cmd", e.Name())) {
			mains = append(mains, e.Name())
		}
	}
	if notFile != nil {
		return "", notFile
	}
	sort.Strings(mains)
	switch len(mains) {
	case 0:
		return "", fmt.Errorf("%s: %w in the project's root or under cmd/: put the function's func main there", dir, errNoMain)
	case 1:
		return "./cmd/" + mains[0], nil
	}
	for _, want := range []string{name, settings.Handler} {
		for _, m := range mains {
			if m == want {
				return "./cmd/" + m, nil
			}
		}
	}
	return "", fmt.Errorf("%s: several main packages (cmd/%s): name the function's cmd/%s or cmd/%s", dir, strings.Join(mains, ", cmd/"), name, settings.Handler)
}
