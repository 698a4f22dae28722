package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// Lambda runs Linux executables. On Linux verify runs the artifacts that
// ship (or a build of them for this machine's architecture); on another
// system (macOS, Windows) it runs a build of the same code for that
// system, and says that its figures compare builds with each other only.

// systemName is this system as users call it.
func systemName() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS"
	case "windows":
		return "Windows"
	}
	return runtime.GOOS
}

// nativeNotes are the notes of every target measured on this system: none
// on Linux, elsewhere that the figures are comparative only.
func nativeNotes() []string {
	if runtime.GOOS == "linux" {
		return nil
	}
	return []string{fmt.Sprintf("measured on %s, not Linux: the figures compare builds of the same code with each other only (Lambda runs Linux; measure on Linux for figures near Lambda's)", systemName())}
}

// executable reports whether fi may be run as a program: an execute bit on
// Unix; on Windows, which runs programs by their extension, any file.
func executable(fi os.FileInfo) bool {
	if runtime.GOOS == "windows" {
		return true
	}
	return fi.Mode().Perm()&0o111 != 0
}

// checkRunsHere refuses a Linux executable (arch is not "") on a system
// that cannot run it.
func checkRunsHere(shown string, arch settings.Arch) error {
	if runtime.GOOS == "linux" || arch == "" {
		return nil
	}
	return fmt.Errorf("%s is a Linux executable, which %s cannot run: pass the project folder (verify builds it for this system)", shown, systemName())
}

// prepareNativeProject is PrepareProject on a system other than Linux:
// the deployed architecture's Linux build gives the sizes (skipped, with a
// note, when its toolchain is missing here), and a build of the same code
// for this system (build.BuildNative) is what runs.
func prepareNativeProject(ctx context.Context, dir string, cfg *config.Config, o PrepareOptions) (*Target, error) {
	t := &Target{Name: dir, Config: cfg}
	want := cfg.Architecture()
	_, err := t.build(ctx, dir, cfg, want, o)
	var te *build.ToolchainError
	switch {
	case errors.As(err, &te):
		t.Notes = append(t.Notes, fmt.Sprintf("the project deploys to %s, which cannot be built here (%v): its sizes are skipped", want, te))
	case err != nil:
		t.Close()
		return nil, err
	}
	out, err := t.tempDir("fnopt-verify-native-")
	if err != nil {
		t.Close()
		return nil, err
	}
	res, err := build.BuildNative(ctx, dir, cfg, build.Options{OutDir: out, Log: o.BuildLog, Env: o.BuildEnv})
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("building %s for %s: %w", dir, systemName(), err)
	}
	boot, err := PrepareBootstrap(res.Bootstrap, o)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Starter, t.TaskRoot, t.Arch, t.Files = boot.Starter, boot.TaskRoot, boot.Arch, boot.Files
	t.Notes = append(t.Notes, fmt.Sprintf("the project deploys to %s Linux; measured a %s build of the same code (sizes are the %s Linux artifact's)", want, systemName(), want))
	t.Notes = append(t.Notes, boot.Notes...)
	return t, nil
}
