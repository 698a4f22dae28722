package verify

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
	"runtime"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// Target is one function prepared for measuring: how to start it and what
// it is made of. Close removes what preparing it created.
type Target struct {
	// Name labels the target in reports.
	Name string
	// Starter starts one fresh copy.
	Starter Starter
	// TaskRoot is LAMBDA_TASK_ROOT as the function sees it.
	TaskRoot string
	// Arch is the architecture that runs.
	Arch settings.Arch
	// Files are evicted from the page cache for cold-cache samples.
	Files []string
	// Artifacts are the sizes that ship (and, for a cross-architecture
	// project, those of the deployed architecture).
	Artifacts []Artifact
	// Notes say how the target differs from what was asked (a host-arch
	// build instead of arm64, for example).
	Notes []string
	// CrossBootstrap is the deployed architecture's bootstrap when it is
	// not the host's; FunctionalCheck runs it under qemu.
	CrossBootstrap string
	CrossArch      settings.Arch
	// Config is the project's fnopt.yaml (its budgets apply to the
	// measurement); nil for targets that are not projects.
	Config *config.Config

	cleanup []func() error
}

// Artifact is one measured size.
type Artifact struct {
	Name  string        `json:"name"`
	Arch  settings.Arch `json:"arch,omitempty"`
	Bytes int64         `json:"bytes"`
}

// Close removes the target's temporary files.
func (t *Target) Close() error {
	var errs []error
	for i := len(t.cleanup) - 1; i >= 0; i-- {
		errs = append(errs, t.cleanup[i]())
	}
	t.cleanup = nil
	return errors.Join(errs...)
}

func (t *Target) tempDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("creating a temporary folder: %w", err)
	}
	t.cleanup = append(t.cleanup, func() error { return os.RemoveAll(dir) })
	return dir, nil
}

// PrepareOptions say how targets are prepared.
type PrepareOptions struct {
	// Cgroups limits memory where possible (see DetectCgroups); nil runs
	// without.
	Cgroups *Cgroups
	// BuildLog receives compiler output for project targets.
	BuildLog io.Writer
	// BuildEnv is added to the compiler's environment.
	BuildEnv []string
	// Program overrides a project's main package (Go) or Cargo binary
	// target (Rust) that fnopt.yaml names; empty keeps it.
	Program string
	// Insecure allows plain-HTTP registries for image targets.
	Insecure bool
}

// Prepare makes a target from a TARGET argument: an image reference
// (oci:DIR[:TAG], tar:FILE, registry reference), a project folder (built
// for this machine's architecture), a zip (extracted), or a bootstrap
// executable.
func Prepare(ctx context.Context, path string, o PrepareOptions) (*Target, error) {
	if IsImageRef(path) {
		return PrepareImage(ctx, path, o)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", path, err)
	}
	if st.IsDir() {
		return PrepareProject(ctx, path, o)
	}
	head := make([]byte, 4)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", path, err)
	}
	_, _ = io.ReadFull(f, head)
	f.Close()
	if bytes.Equal(head, []byte("PK\x03\x04")) {
		return PrepareZip(path, o)
	}
	return PrepareBootstrap(path, o)
}

// PrepareBootstrap runs path as it is, with its folder as the task root.
func PrepareBootstrap(path string, o PrepareOptions) (*Target, error) {
	return prepareBootstrap(path, path, o)
}

// prepareBootstrap is PrepareBootstrap naming the file as shown in errors.
func prepareBootstrap(path, shown string, o PrepareOptions) (*Target, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("bootstrap %s: %w", shown, err)
	}
	if !st.Mode().IsRegular() || !executable(st) {
		return nil, fmt.Errorf("bootstrap %s is not an executable file: chmod +x it, or pass a project folder or zip", shown)
	}
	arch, err := elfArch(abs)
	if err != nil {
		return nil, err
	}
	if err := checkRunsHere(shown, arch); err != nil {
		return nil, err
	}
	if arch != "" && arch != settings.HostArch() {
		return nil, fmt.Errorf("%s is built for %s and this machine is %s: pass the project folder (verify builds it for this machine) or a %s build", shown, arch, settings.HostArch(), settings.HostArch())
	}
	return &Target{
		Name:      path,
		Notes:     nativeNotes(),
		Starter:   &HostStarter{Bootstrap: abs, Dir: filepath.Dir(abs), Cgroups: o.Cgroups},
		TaskRoot:  filepath.Dir(abs),
		Arch:      settings.HostArch(),
		Files:     []string{abs},
		Artifacts: []Artifact{{Name: "bootstrap", Arch: settings.HostArch(), Bytes: st.Size()}},
	}, nil
}

// elfArch is the architecture an ELF file is built for, "" for other
// executables (scripts) and an error for ELF files of other machines.
func elfArch(path string) (settings.Arch, error) {
	f, err := elf.Open(path)
	if err != nil {
		var fe *elf.FormatError
		if errors.As(err, &fe) {
			return "", nil
		}
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	for _, a := range []settings.Arch{settings.X86_64, settings.ARM64} {
		if f.Machine == a.ELFMachine() {
			return a, nil
		}
	}
	return "", fmt.Errorf("%s is an ELF file for %v, which Lambda does not run", path, f.Machine)
}

// PrepareZip extracts a deployment zip into a temporary task root.
func PrepareZip(path string, o PrepareOptions) (*Target, error) {
	t := &Target{Name: path}
	root, err := t.tempDir("fnopt-verify-zip-")
	if err != nil {
		return nil, err
	}
	files, unzipped, err := extractZip(path, root, MaxUnzippedBytes)
	if err != nil {
		t.Close()
		return nil, err
	}
	boot, err := prepareBootstrap(filepath.Join(root, settings.Handler), "the bootstrap in "+path, o)
	if err != nil {
		t.Close()
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("zip %s has no %s at its top level: Lambda's custom runtime runs /var/task/bootstrap", path, settings.Handler)
		}
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Starter, t.TaskRoot, t.Arch = boot.Starter, root, boot.Arch
	t.Files = files
	t.Artifacts = []Artifact{
		{Name: "zip", Arch: boot.Arch, Bytes: st.Size()},
		{Name: "unzipped", Arch: boot.Arch, Bytes: unzipped},
		{Name: "bootstrap", Arch: boot.Arch, Bytes: boot.Artifacts[0].Bytes},
	}
	return t, nil
}

// PrepareProject builds the project in dir for this machine's
// architecture, into a temporary folder (the project's dist/ is left
// alone). When the project deploys to another architecture, that build is
// made too, for its sizes and for FunctionalCheck; when this machine lacks
// the toolchain for it (a Rust target not installed), the host build is
// measured alone and a note says what was skipped and how to install it.
func PrepareProject(ctx context.Context, dir string, o PrepareOptions) (*Target, error) {
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, err
	}
	cfg = cfg.WithProgram(o.Program)
	if runtime.GOOS != "linux" {
		return prepareNativeProject(ctx, dir, cfg, o)
	}
	t := &Target{Name: dir, Config: cfg}
	if note := linkNote(cfg); note != "" {
		t.Notes = append(t.Notes, note)
	}
	host := settings.HostArch()
	want := cfg.Architecture()
	if want != host {
		// The deployed architecture's build first: a missing cross
		// toolchain is known at once, before the host build's wait.
		crossRes, err := t.build(ctx, dir, cfg, want, o)
		var te *build.ToolchainError
		switch {
		case errors.As(err, &te):
			t.Notes = append(t.Notes, fmt.Sprintf("the project deploys to %s, which cannot be built here (%v): its sizes and its run under emulation are skipped; measured a %s build of the same code on this %s machine", want, te, host, host))
		case err != nil:
			t.Close()
			return nil, err
		default:
			t.CrossBootstrap, t.CrossArch = crossRes.Bootstrap.Path, want
			t.Notes = append(t.Notes, fmt.Sprintf("the project deploys to %s; measured a %s build of the same code on this %s machine (sizes are the %s artifact's)", want, host, host, want))
		}
	}
	hostRes, err := t.build(ctx, dir, cfg, host, o)
	if err != nil {
		t.Close()
		return nil, err
	}
	boot, err := PrepareBootstrap(hostRes.Bootstrap.Path, o)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Starter, t.TaskRoot, t.Arch, t.Files = boot.Starter, boot.TaskRoot, host, boot.Files
	return t, nil
}

// CheckBudgets applies the project's fnopt.yaml budgets to samples
// measured of t and to the zip that ships; a target that is not a project
// has none.
func (t *Target) CheckBudgets(samples []Sample) BudgetCheck {
	if t.Config == nil {
		return BudgetCheck{}
	}
	size, why := t.shippedZip()
	return CheckBudgets(t.Config.Budgets, samples, size, why)
}

// shippedZip is the size of the zip that ships, which fnopt.yaml's
// artifact_bytes limits, or 0 and why it is not known.
func (t *Target) shippedZip() (int64, string) {
	if t.Config == nil {
		return 0, "the target is not a project"
	}
	if t.Config.Package != config.Zip {
		return 0, "the project ships an image, whose compressed layers a project measurement does not make (fnopt build --package image reports them)"
	}
	want := t.Config.Architecture()
	for _, a := range t.Artifacts {
		if a.Name == "zip" && a.Arch == want {
			return a.Bytes, ""
		}
	}
	return 0, fmt.Sprintf("the %s zip was not built", want)
}

// shipsStatic says whether the bootstrap that ships is linked statically
// where the language links dynamically by default (Rust): fnopt.yaml asks
// for it (build.link: static), or the project ships an image, which
// `fnopt build` makes on no base, with no C library to link against.
func shipsStatic(cfg *config.Config) bool {
	return cfg.Language == config.Rust && (cfg.Build.Link.Static() || cfg.Package == config.Image)
}

// linkNote says how the measured Rust bootstrap was linked and why, so a
// report never leaves the user guessing which build it measured.
func linkNote(cfg *config.Config) string {
	switch {
	case cfg.Language != config.Rust:
		return ""
	case cfg.Build.Link.Static():
		return "measured the statically linked bootstrap fnopt.yaml asks for (build.link: static)"
	case shipsStatic(cfg):
		return "the project ships an image, whose bootstrap fnopt build links statically (it has no base with a C library): measured that build"
	}
	return "measured the dynamically linked bootstrap (glibc) that the zip ships"
}

// build builds the zip for arch as `fnopt build` does (dist.Produce),
// into a temporary folder, and records the bootstrap's and the zip's
// sizes.
func (t *Target) build(ctx context.Context, dir string, cfg *config.Config, arch settings.Arch, o PrepareOptions) (*dist.Result, error) {
	out, err := t.tempDir("fnopt-verify-build-")
	if err != nil {
		return nil, err
	}
	res, err := dist.Produce(ctx, dir, dist.Options{
		Config: cfg,
		Arch:   arch,
		// What is measured is the zip's bootstrap, even when fnopt.yaml
		// ships an image, but linked as what ships is (shipsStatic).
		Package: "zip",
		Static:  shipsStatic(cfg),
		OutDir:  out,
		Log:     o.BuildLog,
		Env:     o.BuildEnv,
	})
	if err != nil {
		return nil, fmt.Errorf("building %s for %s: %w", dir, arch, err)
	}
	t.Artifacts = append(t.Artifacts,
		Artifact{Name: "bootstrap", Arch: arch, Bytes: res.Bootstrap.Bytes},
		Artifact{Name: "zip", Arch: arch, Bytes: res.Zip.Bytes})
	return res, nil
}

// QemuPath finds qemu-aarch64-static (Debian's qemu-user-static), or "".
func QemuPath(arch settings.Arch) string {
	if arch != settings.ARM64 {
		return ""
	}
	p, err := exec.LookPath("qemu-aarch64-static")
	if err != nil {
		return ""
	}
	return p
}

// FunctionalCheck runs t's cross-architecture bootstrap once under qemu,
// through init and one invocation: it shows that the artifact that ships
// works, not how fast it starts (emulation is far slower). It returns nil
// results when there is nothing to check or no qemu.
func FunctionalCheck(ctx context.Context, t *Target, o Options) (*Run, error) {
	qemu := QemuPath(t.CrossArch)
	if t.CrossBootstrap == "" || qemu == "" {
		return nil, nil
	}
	ct := &Target{
		Name:     t.Name + " (" + string(t.CrossArch) + " under qemu)",
		Starter:  &HostStarter{Bootstrap: qemu, Args: []string{t.CrossBootstrap}, Dir: filepath.Dir(t.CrossBootstrap)},
		TaskRoot: filepath.Dir(t.CrossBootstrap),
		Arch:     t.CrossArch,
	}
	o.Samples, o.Warm, o.ColdCache, o.Progress = 1, 0, false, nil
	runs, err := Measure(ctx, []*Target{ct}, o)
	if err != nil {
		return nil, err
	}
	return &runs[0], nil
}
