package optimizecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/optimize/slim"
	"github.com/fnopt/fnopt/verify"
)

// ImageOptions are `optimize image`'s inputs once flags are parsed.
type ImageOptions struct {
	IO       *cmdutil.IOStreams
	Src, Dst string
	Keep     []string
	Exclude  []string
	KeepBase int
	Event    string // file
	Expect   string // verify's --expect syntax
	Samples  int
	Explain  bool
	JSON     bool
	Insecure bool
	Platform string
}

func newImageCmd(ios *cmdutil.IOStreams) *cobra.Command {
	o := &ImageOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "image SRC --to DST",
		Short: "Shrink a container image function to the files it needs, and prove it still answers",
		Long: `Read the image SRC, keep only what the function needs and write the result to
DST, after running both images side by side with the same event and
checking that the minimised one answers exactly like the original.

SRC and DST are oci:DIR[:TAG], tar:FILE or a registry reference.

Kept: what ENTRYPOINT and CMD run (#! interpreters, files a start script
names, /lambda-entrypoint.sh -> /var/runtime/bootstrap), the ELF
interpreter and shared libraries of every program kept (searched as the
loader does, inside the image), every file one traced cold start and
invocation touches in fnopt's sandbox (dlopen, data files), CA
certificates, /etc/passwd, /etc/group, and the --keep paths. --explain
says why each path is kept.

The result is one layer, or with --keep-base N the first N layers of SRC
(its base image) untouched and one minimised layer above them. Nothing
from the image runs outside the sandbox; unsafe layer entries are left
out and listed.

Exit status: 0 minimised image written, or SRC already as small as
minimising makes it (nothing written: an image is never replaced by a
bigger one); 1 the minimised image did not
answer like the original (nothing written; the file it probably lacks is
named) or the original itself fails; 2 bad input or the job could not be
done.`,
		Example: `  fnopt optimize image registry.example.com/orders:1.4 --to oci:dist/orders-slim
  fnopt optimize image tar:orders.tar --to tar:orders-slim.tar --event event.json --explain
  fnopt optimize image oci:img --to oci:slim --keep-base 3 --keep /var/task/templates`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Src = args[0]
			return RunImage(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dst, "to", "", "where to write the minimised image (required; never overwritten)")
	f.StringArrayVar(&o.Keep, "keep", nil, "keep this path (a folder with its content) whatever the analysis says; repeatable")
	f.StringArrayVar(&o.Exclude, "exclude", nil, "drop this path whatever the analysis says (to try without it; the proof catches a needed file); repeatable")
	f.IntVar(&o.KeepBase, "keep-base", 0, "keep the first N layers (the base image) untouched and minimise only the layers above")
	cmdutil.EventFlag(f, &o.Event, "event file (JSON) for the traced run and the proof (default "+verify.DefaultEvent+")")
	cmdutil.ExpectFlag(f, &o.Expect, "instead of the original's exact response, require this JSON document or /regex/ of both images (for responses with times or ids)")
	cmdutil.SamplesFlag(f, &o.Samples, cmdutil.SamplesImage, "cold starts of each image in the proof (interleaved)")
	f.BoolVar(&o.Explain, "explain", false, "print every kept path and why it is kept")
	cmdutil.JSONFlag(f, &o.JSON, "print the report as a JSON document ("+ImageSchema+")")
	cmdutil.InsecureFlag(f, &o.Insecure, "allow plain HTTP for a registry on loopback")
	f.StringVar(&o.Platform, "platform", "", "os/arch of the image to take from a multi-platform SRC (default: this machine's)")
	_ = cmd.MarkFlagRequired("to")
	cmdutil.CompleteNothing(cmd, "expect")
	// Any os/arch is accepted; the shell offers the two Lambda runs.
	var platforms []string
	for _, a := range settings.Arches {
		platforms = append(platforms, "linux/"+settings.Arch(a).GOARCH())
	}
	cmdutil.CompleteChoices(cmd, "platform", platforms)
	return cmd
}

// RunImage minimises o.Src, proves the result and writes it to o.Dst: it
// checks the flags, makes one slim.MinimizeAndProve call and renders its
// outcome.
func RunImage(ctx context.Context, o *ImageOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	src, err := image.ParseRef(o.Src)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	dst, err := image.ParseRef(o.Dst)
	if err != nil {
		return cmdutil.UsageError(fmt.Errorf("--to: %w", err))
	}
	// Refused before any work; MinimizeAndProve checks again.
	if err := image.CheckAbsent(dst); err != nil {
		return cmdutil.UsageError(destError(err))
	}
	if err := cmdutil.CheckSamples(o.Samples); err != nil {
		return cmdutil.UsageError(err)
	}
	event, err := cmdutil.ReadEvent(o.Event)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	expect, err := cmdutil.ParseExpect(o.Expect)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	created, err := image.SourceDateEpoch()
	if err != nil {
		return cmdutil.UsageError(err)
	}
	var platform *v1.Platform
	if o.Platform != "" {
		if platform, err = v1.ParsePlatform(o.Platform); err != nil {
			return cmdutil.UsageError(fmt.Errorf("--platform %s: %w", o.Platform, err))
		}
	}

	errOut := o.IO.ErrOut
	opts := slim.MinimizeAndProveOptions{
		Options: slim.Options{Keep: o.Keep, Exclude: o.Exclude, KeepBase: o.KeepBase, Event: event, Created: created},
		Samples: o.Samples, Expect: expect, Platform: platform, Insecure: o.Insecure,
		OnStage: func(s slim.Stage) {
			switch s {
			case slim.StageDownload:
				fmt.Fprintf(errOut, "downloading %s...\n", o.Src)
			case slim.StageMinimize:
				fmt.Fprintf(errOut, "minimising %s (traced run in the sandbox)...\n", o.Src)
			case slim.StageProve:
				fmt.Fprintf(errOut, "proving: %d cold start(s) of each image with the same event...\n", o.Samples)
			}
		},
	}
	if o.IO.ShowProgress() {
		opts.Progress = func(done, total int) {
			fmt.Fprintf(errOut, "\r  %d/%d cold starts", done, total)
			if done == total {
				fmt.Fprintln(errOut)
			}
		}
	}
	// The working folders are gone when MinimizeAndProve returns, before
	// anything is printed (a reader that stops early, | head, ends fnopt
	// with SIGPIPE).
	out, err := slim.MinimizeAndProve(ctx, src, dst, opts)
	if err != nil {
		return imageError(ctx, o, err)
	}

	doc := imageDocument(o, out)
	if o.JSON {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		writeImageText(o.IO.Out, doc, out.Proof, o.Explain)
	}
	if !doc.Written && !doc.NotSmaller {
		msg := "the minimised image does not answer like the original; nothing written to " + o.Dst
		if doc.MissingFile != "" {
			msg += fmt.Sprintf(": it probably lacks %s (add --keep %s)", doc.MissingFile, doc.MissingFile)
		} else {
			msg += ": its traced run opened no missing file (the function may list a folder, or need a file only on other paths); --explain shows what was kept, --keep adds more"
		}
		return cmdutil.FailError(errors.New(msg))
	}
	return nil
}

// imageError is the command's error for a failed MinimizeAndProve: an
// interruption says nothing was written, an original that fails is exit
// 1, and errors about an option name its flag.
func imageError(ctx context.Context, o *ImageOptions, err error) error {
	var keepBase *slim.KeepBaseError
	var keep *slim.KeepError
	var dest *image.DestError
	var pe *image.PlatformError
	switch {
	case ctx.Err() != nil:
		return cmdutil.UsageError(fmt.Errorf("interrupted; nothing written to %s", o.Dst))
	case errors.Is(err, slim.ErrOriginalFails):
		return cmdutil.FailError(err)
	case errors.As(err, &keepBase):
		return cmdutil.UsageError(fmt.Errorf("--keep-base %d: the image has %d layers; keep fewer than that", keepBase.KeepBase, keepBase.Layers))
	case errors.As(err, &keep):
		return cmdutil.UsageError(fmt.Errorf("--keep %s: %w", keep.Path, keep.Err))
	case errors.As(err, &dest):
		return cmdutil.UsageError(destError(err))
	case errors.As(err, &pe):
		return cmdutil.UsageError(fmt.Errorf("%w: pick one with --platform", err))
	}
	return cmdutil.UsageError(cmdutil.InsecureFlagError(err))
}

// destError puts --to in front of image.CheckAbsent's error, in the words
// optimize image has always used for an existing destination.
func destError(err error) error {
	var dest *image.DestError
	if errors.As(err, &dest) && errors.Is(dest.Err, fs.ErrExist) {
		return fmt.Errorf("--to %s: %s already exists; fnopt never overwrites an image: choose another name or remove it", dest.Ref, dest.Ref.Path)
	}
	return fmt.Errorf("--to %w", err)
}
