// Package buildcmd is `fnopt build`: it builds a function project with the
// tuned settings and writes the artifacts Lambda takes — dist/bootstrap,
// dist/function.zip and, when asked, a container image. The work is
// internal/dist's Produce; the command parses flags, calls it and renders
// the result.
package buildcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
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
func NewCmd(ios *cmdutil.IOStreams) *cobra.Command { return newCmd(ios, Run) }

// newCmd is NewCmd with what runs once flags are parsed; tests pass a
// function that records the Options.
func newCmd(ios *cmdutil.IOStreams, run func(context.Context, *Options) error) *cobra.Command {
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
			return cmdutil.UsageError(run(ctx, opts))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Arch, "arch", "", "architecture to build for: arm64 or x86_64 (default: fnopt.yaml's, else arm64)")
	f.StringVar(&opts.Package, "package", "", "zip, or image to also build a container image (default: fnopt.yaml's, else zip)")
	f.StringVar(&opts.ImageOut, "image-out", "", "write the image to `DEST`: oci:DIR[:TAG], tar:FILE or a registry reference (implies --package image)")
	f.StringVar(&opts.Base, "base", "", "base image `SRC` (oci:DIR[:TAG], tar:FILE or a registry reference); default none (scratch)")
	f.BoolVar(&opts.NoCA, "no-ca-certs", false, "leave the CA certificates out of the image")
	cmdutil.InsecureFlag(f, &opts.Insecure, "allow plain HTTP to a registry on loopback")
	cmdutil.JSONFlag(f, &opts.JSON, "print the result as JSON (schema "+Schema+")")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "show the compiler's output as it runs")
	return cmd
}

// Run builds the project described by opts and prints the report.
func Run(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	do, err := opts.distOptions()
	if err != nil {
		return err
	}
	res, err := dist.Produce(ctx, opts.Dir, do)
	if err != nil {
		return withFlags(err)
	}
	report := newReport(res)
	if opts.JSON {
		return writeJSON(opts.IO.Out, report)
	}
	writeText(opts.IO.Out, report)
	return nil
}

// distOptions translates the flags into the library's options; its errors
// name the flag at fault. fnopt.yaml is read by dist.Produce: a flag left
// empty keeps its setting.
func (o *Options) distOptions() (dist.Options, error) {
	do := dist.Options{
		Image:    dist.ImageOptions{NoCACerts: o.NoCA, Insecure: o.Insecure},
		Log:      o.IO.ErrOut,
		Verbose:  o.Verbose,
		Progress: newProgress(o.IO, o.Verbose),
	}
	// Parsed as fnopt new and fnopt.yaml parse them, aliases included.
	if o.Arch != "" {
		arch, err := settings.ParseArch(o.Arch)
		if err != nil {
			return do, cmdutil.ChoiceFlagError("arch", err)
		}
		do.Arch = arch
	}
	// --image-out implies --package image, whatever --package says.
	if o.ImageOut == "" && o.Package != "" {
		pkg, err := config.ParsePackaging(o.Package)
		if err != nil {
			return do, cmdutil.ChoiceFlagError("package", err)
		}
		do.Package = pkg
	}
	if o.ImageOut != "" {
		ref, err := image.ParseRef(o.ImageOut)
		if err != nil {
			return do, fmt.Errorf("--image-out: %w", err)
		}
		do.Image.Dest = ref
	}
	if o.Base != "" {
		ref, err := image.ParseRef(o.Base)
		if err != nil {
			return do, fmt.Errorf("--base: %w", err)
		}
		do.Image.Base = &ref
	}
	return do, nil
}

// withFlags words the library's errors about options in terms of the
// flags that set them, as fnopt build has always printed them.
func withFlags(err error) error {
	var dest *image.DestError
	switch {
	case errors.As(err, &dest):
		return fmt.Errorf("--image-out %w", err)
	case errors.Is(err, dist.ErrImageOnly):
		return errors.New("--base and --no-ca-certs apply to images: add --package image or --image-out DEST")
	case errors.Is(err, dist.ErrNoLoader):
		return fmt.Errorf("%w: pass --base with a provided.al2023 image (public.ecr.aws/lambda/provided:al2023), or deploy dist/function.zip", err)
	}
	return cmdutil.InsecureFlagError(err)
}
