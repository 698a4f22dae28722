// Package buildcmd is `fnopt build`: it builds a function project with the
// tuned settings and writes the artifacts Lambda takes — dist/bootstrap,
// dist/function.zip and, when asked, a container image.
package buildcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/artifact"
	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// Options are the command's inputs once flags are parsed.
type Options struct {
	IO  *cmdutil.IOStreams
	Dir string

	Arch     string // --arch; empty keeps fnopt.yaml's
	Package  string // --package zip|image; empty keeps fnopt.yaml's
	ImageOut string // --image-out DEST
	Base     string // --base SRC
	NoCA     bool   // --no-ca-certs
	Insecure bool   // --insecure
	JSON     bool   // --json
	Verbose  bool   // --verbose
}

// NewCmd returns the `build` command.
func NewCmd(ios *cmdutil.IOStreams) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "build [DIR]",
		Short: "Build a function with tuned settings into dist/bootstrap, dist/function.zip and optionally an image",
		Long: `Build the function project in DIR (default: the current folder) with fnopt's
tuned settings for its architecture, and write the artifacts Lambda takes:

  DIR/dist/bootstrap      the executable (custom runtime provided.al2023)
  DIR/dist/function.zip   deterministic zip with bootstrap (mode 0755) at its root
  an OCI image            with --package image or --image-out DEST

The project is described by DIR/fnopt.yaml; without one, go.mod or Cargo.toml
tells the language and the defaults apply (arm64, zip).

Image destinations (--image-out) are oci:DIR[:TAG], tar:FILE or a registry
reference (pushed; credentials from the Docker config). Without --image-out,
--package image writes oci:DIR/dist/image, replacing the previous one.

Exit status: 0 built; 2 bad input or the build failed (nothing in dist/ is
changed then).`,
		Example: `  fnopt build
  fnopt build ./hello --arch x86_64
  fnopt build --package image                      # also writes oci:dist/image
  fnopt build --image-out 127.0.0.1:5000/hello:v1 --insecure
  fnopt build --image-out tar:hello.tar --base oci:base-layout
  fnopt build --json | jq .zip.bytes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = "."
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			// Ctrl-C or a TERM cancels the build: the compiler's process
			// group is killed and the staging folder removed.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return cmdutil.UsageError(Run(ctx, opts))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Arch, "arch", "", "architecture to build for: arm64 or x86_64 (default: fnopt.yaml's, else arm64)")
	f.StringVar(&opts.Package, "package", "", "zip, or image to also build a container image (default: fnopt.yaml's, else zip)")
	f.StringVar(&opts.ImageOut, "image-out", "", "write the image to `DEST`: oci:DIR[:TAG], tar:FILE or a registry reference (implies --package image)")
	f.StringVar(&opts.Base, "base", "", "base image `SRC` (oci:DIR[:TAG], tar:FILE or a registry reference); default none (scratch)")
	f.BoolVar(&opts.NoCA, "no-ca-certs", false, "leave the CA certificates out of the image")
	f.BoolVar(&opts.Insecure, "insecure", false, "allow plain HTTP to a registry on loopback")
	f.BoolVar(&opts.JSON, "json", false, "print the result as JSON (schema "+Schema+")")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "show the compiler's output as it runs")
	return cmd
}

// Run builds the project described by opts and prints the report.
func Run(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	plan, err := newPlan(opts)
	if err != nil {
		return err
	}
	report, err := plan.execute(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, report)
	}
	writeText(opts.IO.Out, report)
	return nil
}

// plan is what a build will do, decided from flags and fnopt.yaml before
// anything is built.
type plan struct {
	opts  *Options
	dir   string
	dist  string
	cfg   *config.Config
	arch  settings.Arch
	image *imagePlan // nil: no image
}

func newPlan(opts *Options) (*plan, error) {
	fi, err := os.Stat(opts.Dir)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a folder: pass a function project's folder", opts.Dir)
	}
	cfg, err := config.Load(opts.Dir)
	if err != nil {
		return nil, err
	}
	p := &plan{opts: opts, dir: opts.Dir, dist: filepath.Join(opts.Dir, "dist"), cfg: cfg, arch: cfg.Architecture()}
	if opts.Arch != "" {
		if p.arch, err = settings.ParseArch(opts.Arch); err != nil {
			return nil, fmt.Errorf("--arch: %w", err)
		}
	}
	pkg := cfg.Package
	if opts.Package != "" {
		pkg = opts.Package
	}
	switch {
	case opts.ImageOut != "":
		pkg = "image"
	case pkg != "zip" && pkg != "image":
		return nil, fmt.Errorf("--package %q: use zip or image", pkg)
	}
	if pkg == "image" {
		if p.image, err = newImagePlan(opts, p.dist); err != nil {
			return nil, err
		}
	} else if opts.Base != "" || opts.NoCA {
		return nil, errors.New("--base and --no-ca-certs apply to images: add --package image or --image-out DEST")
	}
	return p, nil
}

// execute builds into a staging folder inside dist/ and moves the
// artifacts into place only when every step, image push included, has
// succeeded; on failure dist/ is as it was.
func (p *plan) execute(ctx context.Context) (*Report, error) {
	if err := os.MkdirAll(p.dist, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", p.dist, err)
	}
	stage, err := os.MkdirTemp(p.dist, ".build-*")
	if err != nil {
		return nil, fmt.Errorf("creating a staging folder in %s: %w", p.dist, err)
	}
	defer os.RemoveAll(stage)

	prog := newProgress(p.opts.IO, p.opts.Verbose)
	defer prog.stop()

	var base imageBase
	if p.image != nil && p.image.base != nil {
		// An unreachable base registry fails before the compiler runs.
		prog.step("loading the base image " + p.image.base.String())
		if base, err = p.image.loadBase(ctx, p.arch); err != nil {
			return nil, err
		}
	}

	prog.step(fmt.Sprintf("building %s for %s", p.cfg.Name, p.arch))
	res, err := build.Build(ctx, p.dir, p.cfg, build.Options{
		Arch:     p.arch,
		OutDir:   stage,
		FinalDir: p.dist,
		Log:      p.opts.IO.ErrOut,
		Verbose:  p.opts.Verbose,
		// An image with no base has no loader or libc: link statically.
		Static: p.image != nil && p.image.base == nil,
	})
	if err != nil {
		prog.stop() // the compiler output goes on a clean line
		return nil, err
	}

	prog.step("writing function.zip")
	stagedZip := filepath.Join(stage, "function.zip")
	if _, err := artifact.WriteZip(res.Bootstrap, stagedZip); err != nil {
		return nil, err
	}

	var img *ImageReport
	if p.image != nil {
		if img, err = p.image.make(ctx, prog, res, p.cfg, base, stage); err != nil {
			return nil, err
		}
	}
	prog.stop()

	// Everything is built (and pushed): move it into place.
	bootstrap := filepath.Join(p.dist, settings.Handler)
	zipPath := filepath.Join(p.dist, "function.zip")
	if err := os.Rename(res.Bootstrap, bootstrap); err != nil {
		return nil, fmt.Errorf("installing %s: %w", bootstrap, err)
	}
	if err := os.Rename(stagedZip, zipPath); err != nil {
		return nil, fmt.Errorf("installing %s: %w", zipPath, err)
	}
	if p.image != nil {
		if err := p.image.install(stage); err != nil {
			return nil, err
		}
	}
	return newReport(p, res, bootstrap, zipPath, img)
}
