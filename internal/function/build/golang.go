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
	"slices"
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
	pkg, err := FindGoMain(dir, arch, cfg)
	if err != nil {
		return nil, err
	}
	gb := withUserFlags(settings.Go(arch), cfg.Build)
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

// withUserFlags adds fnopt.yaml's build tags and linker flags to the
// tuned ones: the user's come after, so a -X or a tag is added, never
// dropped, and fnopt's own are kept.
func withUserFlags(gb settings.GoBuild, b config.Build) settings.GoBuild {
	if len(b.Tags) == 0 && b.Ldflags == "" {
		return gb
	}
	flags := append([]string(nil), gb.Flags...)
	for i := 0; i+1 < len(flags); i++ {
		switch flags[i] {
		case "-tags":
			if len(b.Tags) > 0 {
				flags[i+1] += "," + strings.Join(b.Tags, ",")
			}
		case "-ldflags":
			if b.Ldflags != "" {
				flags[i+1] += " " + b.Ldflags
			}
		}
	}
	gb.Flags = flags
	return gb
}

// errNoMain is wrapped by FindGoMain when no main package is found.
var errNoMain = errors.New("no main package")

// ProgramError is a project whose function cannot be told: several main
// packages or binary targets and none named, or a name that is not one of
// them. Key is fnopt.yaml's key that names it; a command adds its flag.
type ProgramError struct {
	Dir     string
	Key     string   // build.main or build.bin
	Named   string   // what was named, when that is the problem
	Choices []string // the programs found (./cmd/x, or Cargo binary targets)
}

func (e *ProgramError) Error() string {
	what := "main packages"
	if e.Key == "build.bin" {
		what = "binary targets"
	}
	if e.Named != "" {
		return fmt.Sprintf("%s: %s %q is not one of the project's %s (%s): fix %s in %s", e.Dir, e.Key, e.Named, what, strings.Join(e.Choices, ", "), e.Key, config.FileName)
	}
	return fmt.Sprintf("%s: several %s (%s): name the function's one in %s, as %s: %s", e.Dir, what, strings.Join(e.Choices, ", "), config.FileName, e.Key, e.Choices[0])
}

// FindGoMain finds the package to build in a Go project: the one
// fnopt.yaml's build.main names, else the root folder when it is package
// main, else the one main package under cmd/ (cmd/NAME or cmd/bootstrap
// when there are several). Build constraints are evaluated for Linux on
// arch, as the build will see them.
func FindGoMain(dir string, arch settings.Arch, cfg *config.Config) (string, error) {
	bctx := build.Default
	bctx.GOOS = "linux"
	bctx.GOARCH = arch.GOARCH()
	bctx.CgoEnabled = false
	bctx.BuildTags = append([]string{settings.GoTags}, cfg.Build.Tags...)
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
	if m := cfg.Build.Main; m != "" {
		// go build takes a path relative to the folder it runs in only
		// with a leading ./ or ../; a module path is not a folder here.
		pkg := m
		if !filepath.IsAbs(pkg) && !strings.HasPrefix(pkg, "./") && !strings.HasPrefix(pkg, "../") && pkg != "." {
			pkg = "./" + pkg
		}
		if !isMain(filepath.Join(dir, filepath.FromSlash(pkg))) {
			return "", fmt.Errorf("%s: %s's build.main %q is not a folder with package main: give the main package's folder relative to %s, such as ./cmd/orders", dir, config.FileName, m, config.FileName)
		}
		return pkg, nil
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
	var mains []string // as go build takes them: ./cmd/NAME
	for _, e := range ents {
		if e.IsDir() && isMain(filepath.Join(dir, "cmd", e.Name())) {
			mains = append(mains, "./cmd/"+e.Name())
		}
	}
	if notFile != nil {
		return "", notFile
	}
	sort.Strings(mains)
	switch len(mains) {
	case 0:
		return "", fmt.Errorf("%s: %w in the project's root or under cmd/: put the function's func main there, or name its folder in %s as build.main", dir, errNoMain, config.FileName)
	case 1:
		return mains[0], nil
	}
	for _, want := range []string{cfg.Name, settings.Handler} {
		if slices.Contains(mains, "./cmd/"+want) {
			return "./cmd/" + want, nil
		}
	}
	return "", &ProgramError{Dir: dir, Key: cfg.ProgramKey(), Choices: mains}
}
