package dist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/function/artifact"
	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// ZipName is the deployment zip's name in the output folder.
const ZipName = "function.zip"

// Options say what Produce builds and where it puts it. The zero value
// builds the project as its fnopt.yaml says, into DIR/dist.
type Options struct {
	// Config describes the project; nil loads DIR/fnopt.yaml
	// (config.Load). Callers that have loaded it already pass it.
	Config *config.Config
	// Arch is the architecture to build for; zero keeps the
	// configuration's.
	Arch settings.Arch
	// Package is "zip" or "image"; empty keeps the configuration's, and
	// an Image.Dest implies "image". Every build writes the zip; an image
	// build makes an image too.
	Package config.Packaging
	// OutDir receives bootstrap, function.zip and the default image;
	// default DIR/dist. Result's paths start with it as given.
	OutDir string
	// Image says how an image build makes its image.
	Image ImageOptions
	// Env is added to the compiler's environment.
	Env []string
	// Static links the bootstrap statically even for a zip: verify asks
	// for it to measure the bootstrap an image on no base ships.
	Static bool
	// Program overrides the configuration's main package (Go, a path
	// relative to DIR) or Cargo binary target (Rust); empty keeps it.
	Program string
	// Log receives the compiler's output (all of it with Verbose, else
	// only when it fails) and the rules an image breaks. Nil discards it.
	Log io.Writer
	// Verbose streams the compiler's output to Log as it runs.
	Verbose bool
	// Progress, when set, hears what Produce is doing.
	Progress Progress
	// Compile makes the bootstrap; nil is build.Build, fnopt's tuned
	// build.
	Compile CompileFunc
}

// CompileFunc compiles the project in dir into opts.OutDir/bootstrap for
// opts.Arch (always set), writing compiler output to opts.Log. Produce
// takes the bootstrap from there, and of the result uses Command and
// Package only. build.Build is the default; a caller that measures a
// project's own build (optimize's proof) passes one that repeats that
// build instead.
type CompileFunc func(ctx context.Context, dir string, cfg *config.Config, opts build.Options) (*build.Result, error)

// Progress hears what Produce is doing, for a spinner on a terminal.
type Progress interface {
	// Step says what starts now.
	Step(what string)
	// Clear says nothing is to be shown until the next Step. It is called
	// before anything is written to Options.Log, so compiler output and
	// rule violations start on a clean line (from the goroutine copying
	// the compiler's output, with Verbose), and when Produce returns.
	Clear()
}

// Result is what Produce built and installed.
type Result struct {
	// Config is the project's configuration the build followed.
	Config *config.Config
	// Arch is the architecture built for.
	Arch settings.Arch
	// Command is the build as a shell command line run in the project,
	// naming the installed bootstrap.
	Command string
	// Compiled is what was compiled: the Go package path (./cmd/x) or the
	// Cargo binary target's name.
	Compiled string
	// KeptProfile are the tuned Cargo profile keys the project sets
	// itself to another value, left to it ("opt-level = 2"; Rust only).
	KeptProfile []string
	// Bootstrap and Zip are the installed files.
	Bootstrap File
	Zip       File
	// Image is set for an image build.
	Image *ImageResult
}

// File is an installed artifact.
type File struct {
	Path   string
	Bytes  int64
	SHA256 string // hex
}

// Produce builds the project in dir into the artifacts Lambda takes and
// installs them into the output folder, all of them or none; see the
// package comment. An existing explicit image destination, and every
// other problem with opts, is reported before anything is built.
func Produce(ctx context.Context, dir string, opts Options) (*Result, error) {
	p, err := newPlan(dir, opts)
	if err != nil {
		return nil, err
	}
	return p.produce(ctx)
}

// plan is what a build will do, decided before anything is built.
type plan struct {
	dir     string
	out     string
	cfg     *config.Config
	arch    settings.Arch
	image   *imagePlan // nil: no image
	env     []string
	log     io.Writer // clears the progress display before each write
	verbose bool
	steps   steps
	compile CompileFunc
	static  bool // Options.Static
}

func newPlan(dir string, opts Options) (*plan, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: pass a function project's folder", dir)
	}
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = config.Load(dir); err != nil {
			return nil, err
		}
	}
	cfg = cfg.WithProgram(opts.Program)
	p := &plan{
		dir: dir, out: opts.OutDir, cfg: cfg, arch: opts.Arch,
		env: opts.Env, verbose: opts.Verbose, steps: steps{opts.Progress}, compile: opts.Compile,
		static: opts.Static,
	}
	if p.out == "" {
		p.out = filepath.Join(dir, "dist")
	}
	if p.arch == "" {
		p.arch = cfg.Architecture()
	}
	if p.compile == nil {
		p.compile = build.Build
	}
	p.log = io.Discard
	if opts.Log != nil {
		p.log = clearingWriter{w: opts.Log, steps: p.steps}
	}
	pkg := opts.Package
	if pkg == "" {
		pkg = cfg.Package
	}
	if opts.Image.Dest.Kind != 0 {
		pkg = config.Image
	}
	switch pkg {
	case config.Image:
		var err error
		if p.image, err = newImagePlan(opts.Image, p.out); err != nil {
			return nil, err
		}
	case config.Zip:
		if opts.Image.Base != nil || opts.Image.NoCACerts || opts.Image.Limits.Set() {
			return nil, ErrImageOnly
		}
	default:
		_, err := config.ParsePackaging(string(pkg))
		return nil, err
	}
	return p, nil
}

// produce builds into a staging folder inside the output folder and
// installs the artifacts only when every step, an image push included,
// has succeeded. The staging folder goes in every case (a cancelled
// context included), unless it holds the previous artifacts that a failed
// install could not put back; so do the output folder and its parents when
// this call made them and the build failed.
func (p *plan) produce(ctx context.Context) (_ *Result, err error) {
	made, err := mkdirAllNew(p.out)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", p.out, err)
	}
	defer func() {
		if err != nil {
			for _, d := range made {
				os.Remove(d) // only when empty: the staging folder is gone by now
			}
		}
	}()
	stage, err := os.MkdirTemp(p.out, ".build-*")
	if err != nil {
		return nil, fmt.Errorf("creating a staging folder in %s: %w", p.out, err)
	}
	keepStage := false
	defer func() {
		if !keepStage {
			os.RemoveAll(stage)
		}
	}()
	defer p.steps.clear()

	var base v1.Image
	if p.image != nil && p.image.opts.Base != nil {
		// An unreachable base registry fails before the compiler runs.
		p.steps.step("loading the base image " + p.image.opts.Base.String())
		if base, err = p.image.loadBase(ctx, p.arch); err != nil {
			return nil, err
		}
	}

	p.steps.step(fmt.Sprintf("building %s for %s", p.cfg.Name, p.arch))
	res, err := p.compile(ctx, p.dir, p.cfg, build.Options{
		Arch:   p.arch,
		OutDir: stage,
		// The command line names the installed bootstrap, not the
		// staging folder's.
		FinalDir: p.out,
		Log:      p.log,
		Verbose:  p.verbose,
		Env:      p.env,
		// An image with no base has no loader or libc: link statically;
		// so does fnopt.yaml's build.link: static, and a caller that
		// measures what such an image ships.
		Static: p.static || p.cfg.Build.Link.Static() || p.image != nil && p.image.opts.Base == nil,
	})
	if err != nil {
		return nil, err
	}

	// What is zipped, imaged, described and installed is the file at the
	// place every compiler is told to write to.
	staged := filepath.Join(stage, settings.Handler)
	p.steps.step("writing " + ZipName)
	stagedZip := filepath.Join(stage, ZipName)
	if _, err := artifact.WriteZip(staged, stagedZip); err != nil {
		return nil, err
	}

	set := []entry{{name: settings.Handler}, {name: ZipName}}
	var img *ImageResult
	if p.image != nil {
		if img, err = p.image.make(ctx, p, res, base, stage); err != nil {
			return nil, err
		}
		if p.image.install {
			set = append(set, entry{name: imageDir, dir: true})
		}
	}
	bootstrap, err := hashFile(staged, filepath.Join(p.out, settings.Handler))
	if err != nil {
		return nil, err
	}
	zip, err := hashFile(stagedZip, filepath.Join(p.out, ZipName))
	if err != nil {
		return nil, err
	}

	// Everything is built (and pushed): move it into place.
	p.steps.clear()
	if err := install(stage, p.out, set, os.Rename); err != nil {
		var pe *partialInstallError
		keepStage = errors.As(err, &pe)
		return nil, err
	}
	return &Result{
		Config:   p.cfg,
		Arch:     p.arch,
		Command:  res.Command,
		Compiled: res.Package,
		// The user's Cargo profile values fnopt did not override.
		KeptProfile: res.KeptProfile,
		Bootstrap:   bootstrap,
		Zip:         zip,
		Image:       img,
	}, nil
}

// mkdirAllNew is os.MkdirAll that returns the folders it created, deepest
// first, so that a failed build can take them away again.
func mkdirAllNew(dir string) ([]string, error) {
	var made []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		made = append(made, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	return made, os.MkdirAll(dir, 0o755)
}

// hashFile describes the staged file as it will be installed at final.
func hashFile(staged, final string) (File, error) {
	f, err := os.Open(staged)
	if err != nil {
		return File{}, fmt.Errorf("reading %s: %w", staged, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("reading %s: %w", staged, err)
	}
	return File{Path: final, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// steps forwards to Options.Progress when there is one.
type steps struct{ p Progress }

func (s steps) step(what string) {
	if s.p != nil {
		s.p.Step(what)
	}
}

func (s steps) clear() {
	if s.p != nil {
		s.p.Clear()
	}
}

// clearingWriter is Options.Log with the progress display cleared before
// each write.
type clearingWriter struct {
	w     io.Writer
	steps steps
}

func (c clearingWriter) Write(b []byte) (int, error) {
	c.steps.clear()
	return c.w.Write(b)
}
