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
	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
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
	Main     string // --main PKG|BIN; empty keeps fnopt.yaml's

	// Image efficiency thresholds, as dive's CI rules; nil is off.
	MinEfficiency        *float64 // --min-efficiency RATIO
	MaxWasted            string   // --max-wasted SIZE
	MaxUserWastedPercent *float64 // --max-user-wasted-percent RATIO
}

// NewCmd returns the `build` command.
func NewCmd(ios *cmdutil.IOStreams) *cobra.Command { return newCmd(ios, Run) }

// newCmd is NewCmd with what runs once flags are parsed; tests pass a
// function that records the Options.
func newCmd(ios *cmdutil.IOStreams, run func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	var minEff, maxUser float64
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

Image efficiency is scored as dive scores it (efficiency, wasted bytes,
user-wasted ratio) and reported; --min-efficiency, --max-wasted and
--max-user-wasted-percent are CI thresholds on it, as dive's lowestEfficiency,
highestWastedBytes and highestUserWastedPercent.

Exit status: 0 built; 1 built, but the image fails an efficiency threshold
(the artifacts are written); 2 bad input or the build failed (nothing in
dist/ is changed then).`,
		Example: `  fnopt build
  fnopt build ./hello --arch x86_64
  fnopt build --main ./cmd/orders                   # one function of several
  fnopt build --package image                      # also writes oci:dist/image
  fnopt build --image-out 127.0.0.1:5000/hello:v1 --insecure
  fnopt build --image-out tar:hello.tar --base oci:base-layout
  fnopt build --json | jq .zip.bytes
  fnopt build --package image --min-efficiency 0.95 --max-wasted 20MB`,
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
			f := cmd.Flags()
			if f.Changed("min-efficiency") {
				opts.MinEfficiency = &minEff
			}
			if f.Changed("max-user-wasted-percent") {
				opts.MaxUserWastedPercent = &maxUser
			}
			return run(ctx, opts)
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
	cmdutil.MainFlag(f, &opts.Main)
	f.Float64Var(&minEff, "min-efficiency", 0, "image: exit 1 when the efficiency (dive's score, 0 to 1) is below `RATIO` (dive's lowestEfficiency)")
	f.StringVar(&opts.MaxWasted, "max-wasted", "", "image: exit 1 when more than `SIZE` (bytes, 20MB, 19MiB) is wasted as dive counts it (dive's highestWastedBytes)")
	f.Float64Var(&maxUser, "max-user-wasted-percent", 0, "image: exit 1 when the wasted bytes over the bytes above the first layer exceed `RATIO`, 0 to 1 (dive's highestUserWastedPercent)")
	// Values the shell completes, from the lists the flags are parsed by.
	cmdutil.CompleteChoices(cmd, "arch", settings.Arches)
	cmdutil.CompleteChoices(cmd, "package", config.Packages)
	cmdutil.CompleteDirs(cmd, "main")
	return cmd
}

// Run builds the project described by opts and prints the report. A
// failed efficiency threshold is exit status 1 (the report says which);
// every other error is bad input or a build that failed: exit status 2.
func Run(ctx context.Context, opts *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	do, err := opts.distOptions()
	if err != nil {
		return cmdutil.UsageError(err)
	}
	res, err := dist.Produce(ctx, opts.Dir, do)
	if err != nil {
		return cmdutil.UsageError(withFlags(err))
	}
	report := newReport(res)
	if opts.JSON {
		if err := writeJSON(opts.IO.Out, report); err != nil {
			return cmdutil.UsageError(err)
		}
	} else {
		writeText(opts.IO.Out, report)
	}
	if res.Image != nil && len(res.Image.Failed) > 0 {
		// Built and written; the image fails a CI threshold.
		return cmdutil.SilentExit(cmdutil.ExitFail)
	}
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
		Program:  o.Main,
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
	var err error
	if do.Image.Limits, err = o.limits(); err != nil {
		return do, err
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

// limits checks the efficiency thresholds' flags.
func (o *Options) limits() (rootfs.EfficiencyLimits, error) {
	var l rootfs.EfficiencyLimits
	ratio := func(flag string, p *float64) error {
		if p != nil && (*p < 0 || *p > 1) {
			return fmt.Errorf("--%s %g: give a ratio from 0 to 1, such as 0.9", flag, *p)
		}
		return nil
	}
	if err := ratio("min-efficiency", o.MinEfficiency); err != nil {
		return l, err
	}
	if err := ratio("max-user-wasted-percent", o.MaxUserWastedPercent); err != nil {
		return l, err
	}
	l.LowestEfficiency, l.HighestUserWastedPercent = o.MinEfficiency, o.MaxUserWastedPercent
	if o.MaxWasted != "" {
		n, err := bytesize.Parse(o.MaxWasted)
		if err != nil {
			return l, fmt.Errorf("--max-wasted %q: %w", o.MaxWasted, err)
		}
		l.HighestWastedBytes = &n
	}
	return l, nil
}

// withFlags words the library's errors about options in terms of the
// flags that set them, as fnopt build has always printed them.
func withFlags(err error) error {
	var dest *image.DestError
	switch {
	case errors.As(err, &dest):
		return fmt.Errorf("--image-out %w", err)
	case errors.Is(err, dist.ErrImageOnly):
		return errors.New("--base, --no-ca-certs, --min-efficiency, --max-wasted and --max-user-wasted-percent apply to images: add --package image or --image-out DEST")
	case errors.Is(err, dist.ErrNoLoader):
		return fmt.Errorf("%w: pass --base with a provided.al2023 image (public.ecr.aws/lambda/provided:al2023), or deploy dist/function.zip", err)
	}
	return cmdutil.ProgramFlagError(cmdutil.InsecureFlagError(err))
}
