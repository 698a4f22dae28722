package optimizecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"text/tabwriter"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/optimize/slim"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// ImageSchema names the version of `optimize image --json`.
const ImageSchema = "fnopt.optimize.image/v1"

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

Exit status: 0 minimised image written; 1 the minimised image did not
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
	f.StringVar(&o.Event, "event", "", "event file (JSON) for the traced run and the proof (default "+verify.DefaultEvent+")")
	f.StringVar(&o.Expect, "expect", "", "instead of the original's exact response, require this JSON document or /regex/ of both images (for responses with times or ids)")
	f.IntVar(&o.Samples, "samples", 3, "cold starts of each image in the proof (interleaved)")
	f.BoolVar(&o.Explain, "explain", false, "print every kept path and why it is kept")
	f.BoolVar(&o.JSON, "json", false, "print the report as a JSON document ("+ImageSchema+")")
	f.BoolVar(&o.Insecure, "insecure", false, "allow plain HTTP for a registry on loopback")
	f.StringVar(&o.Platform, "platform", "", "os/arch of the image to take from a multi-platform SRC (default: this machine's)")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// ImageDocument is the --json output.
type ImageDocument struct {
	Schema       string         `json:"schema"`
	Source       string         `json:"source"`
	Destination  string         `json:"destination"`
	Written      bool           `json:"written"`
	Digest       string         `json:"digest,omitempty"`
	Original     slim.Stats     `json:"original"`
	Minimised    slim.Stats     `json:"minimised"`
	ColdStartMs  map[string]any `json:"cold_start_ms"`
	Kept         []slim.Kept    `json:"kept,omitempty"`
	Skipped      []slim.Skipped `json:"skipped"`
	SkippedCount int            `json:"skipped_count"`
	Missing      []string       `json:"missing_libraries"`
	Failure      string         `json:"failure,omitempty"`
	MissingFile  string         `json:"missing_file,omitempty"`
	Notes        []string       `json:"notes"`
}

// RunImage minimises o.Src, proves the result and writes it to o.Dst.
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
	if err := absent(dst); err != nil {
		return cmdutil.UsageError(err)
	}
	if o.Samples < 1 {
		return cmdutil.UsageError(errors.New("--samples must be at least 1"))
	}
	var event []byte
	if o.Event != "" {
		if event, err = os.ReadFile(o.Event); err != nil {
			return cmdutil.UsageError(fmt.Errorf("--event: %w", err))
		}
		if !json.Valid(event) {
			return cmdutil.UsageError(fmt.Errorf("--event %s is not a JSON document", o.Event))
		}
	}
	// Ctrl-C or SIGTERM stops the work; the sandboxes and the temporary
	// folders are still removed, and nothing is written.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	interrupted := func(err error) error {
		if ctx.Err() != nil {
			return cmdutil.UsageError(fmt.Errorf("interrupted; nothing written to %s", o.Dst))
		}
		return cmdutil.UsageError(err)
	}
	var expect *verify.Expect
	if o.Expect != "" {
		if expect, err = verify.ParseExpect(o.Expect); err != nil {
			return cmdutil.UsageError(err)
		}
	}
	created, err := image.SourceDateEpoch()
	if err != nil {
		return cmdutil.UsageError(err)
	}
	lo := image.LoadOptions{Insecure: o.Insecure}
	if o.Platform != "" {
		p, err := v1.ParsePlatform(o.Platform)
		if err != nil {
			return cmdutil.UsageError(fmt.Errorf("--platform %s: %w", o.Platform, err))
		}
		lo.Platform = p
	}
	img, err := image.Load(ctx, src, lo)
	if err != nil {
		return cmdutil.UsageError(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return cmdutil.UsageError(fmt.Errorf("reading the configuration of %s: %w", o.Src, err))
	}
	if host := settings.HostArch(); cf.Architecture != "" && cf.Architecture != host.GOARCH() {
		return cmdutil.UsageError(fmt.Errorf("image %s is for %s and this machine is %s: minimising runs the function, so run fnopt on a %s machine", o.Src, cf.Architecture, host.GOARCH(), cf.Architecture))
	}
	errOut := o.IO.ErrOut
	// A registry image is read by several passes (metadata, flattening,
	// the proof): download it once into a local layout.
	proofSrc := o.Src
	removeDownload := func() error { return nil }
	if src.Kind == image.Registry {
		fmt.Fprintf(errOut, "downloading %s...\n", o.Src)
		tmp, err := os.MkdirTemp("", "fnopt-optimize-image-")
		if err != nil {
			return cmdutil.UsageError(err)
		}
		removeDownload = func() error { return os.RemoveAll(tmp) }
		defer removeDownload()
		local := image.Ref{Kind: image.OCI, Path: tmp + "/src"}
		if err := image.Write(ctx, img, local, image.WriteOptions{}); err != nil {
			return cmdutil.UsageError(fmt.Errorf("downloading %s: %w", o.Src, err))
		}
		if img, err = image.Load(ctx, local, image.LoadOptions{}); err != nil {
			return cmdutil.UsageError(err)
		}
		proofSrc = local.String()
	}
	fmt.Fprintf(errOut, "minimising %s (traced run in the sandbox)...\n", o.Src)
	res, err := slim.Minimize(ctx, img, slim.Options{Keep: o.Keep, Exclude: o.Exclude, KeepBase: o.KeepBase, Event: event, Created: created})
	if errors.Is(err, slim.ErrOriginalFails) && ctx.Err() == nil {
		return cmdutil.FailError(err)
	}
	if err != nil {
		return interrupted(err)
	}
	defer res.Close()
	doc := &ImageDocument{
		Schema: ImageSchema, Source: o.Src, Destination: o.Dst,
		Original: res.Before, Minimised: res.After,
		Skipped: res.Skipped, SkippedCount: res.SkippedCount, Missing: res.Missing, Notes: res.Notes,
		ColdStartMs: map[string]any{},
	}
	if o.Explain || o.JSON {
		doc.Kept = res.Kept
	}
	fmt.Fprintf(errOut, "proving: %d cold start(s) of each image with the same event...\n", o.Samples)
	popts := slim.ProofOptions{Samples: o.Samples, Event: event, Insecure: o.Insecure, Expect: expect}
	if o.IO.ShowProgress() {
		popts.Progress = func(done, total int) {
			fmt.Fprintf(errOut, "\r  %d/%d cold starts", done, total)
			if done == total {
				fmt.Fprintln(errOut)
			}
		}
	}
	proof, err := slim.Prove(ctx, proofSrc, res.Image, res.Traced.Response, popts)
	if errors.Is(err, slim.ErrOriginalFails) && ctx.Err() == nil {
		return cmdutil.FailError(err)
	}
	if err != nil {
		return interrupted(err)
	}
	if ctx.Err() != nil {
		return interrupted(ctx.Err())
	}
	// What the measurement could not do as asked (a memory limit not
	// enforced, say), once.
	for _, r := range []verify.Run{proof.Original, proof.Minimised} {
		for _, n := range r.Notes {
			if !slices.Contains(doc.Notes, n) {
				doc.Notes = append(doc.Notes, n)
			}
		}
	}
	doc.ColdStartMs["original"] = summary(proof.Original)
	doc.ColdStartMs["minimised"] = summary(proof.Minimised)
	if !proof.OK() {
		doc.Failure = proof.Minimised.Failure.Error()
		doc.MissingFile = proof.MissingFile
	} else {
		if err := image.Write(ctx, res.Image, dst, image.WriteOptions{Insecure: o.Insecure}); err != nil {
			return cmdutil.UsageError(fmt.Errorf("writing %s: %w", o.Dst, err))
		}
		d, err := res.Image.Digest()
		if err != nil {
			return cmdutil.UsageError(err)
		}
		doc.Written, doc.Digest = true, d.String()
	}
	// The working folder (a flattened copy of SRC) goes before anything
	// is printed: a reader that stops early (| head) ends fnopt with
	// SIGPIPE, and deferred clean-ups would not run.
	if err := errors.Join(res.Close(), removeDownload()); err != nil {
		return cmdutil.UsageError(fmt.Errorf("removing the working folders: %w", err))
	}
	if o.JSON {
		enc := json.NewEncoder(o.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	} else {
		writeImageText(o.IO.Out, doc, proof, o.Explain)
	}
	if !doc.Written {
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

// absent refuses an existing oci: folder (an empty one is fine) or tar:
// file before any work is done; image.Write checks again when writing.
func absent(ref image.Ref) error {
	if ref.Kind != image.OCI && ref.Kind != image.Tarball {
		return nil
	}
	fi, err := os.Stat(ref.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--to %s: %w", ref, err)
	}
	if fi.IsDir() && ref.Kind == image.OCI {
		if ents, err := os.ReadDir(ref.Path); err == nil && len(ents) == 0 {
			return nil
		}
	}
	return fmt.Errorf("--to %s: %s already exists; fnopt never overwrites an image: choose another name or remove it", ref, ref.Path)
}

func summary(r verify.Run) map[string]any {
	vals := verify.Values(r.Samples, verify.MetricColdStart)
	if len(vals) == 0 {
		return map[string]any{"samples": 0}
	}
	s := stats.Summarize(vals)
	return map[string]any{"samples": s.N, "p50": s.P50, "min": s.Min, "max": s.Max}
}

func writeImageText(w io.Writer, doc *ImageDocument, proof *slim.Proof, explain bool) {
	if explain {
		fmt.Fprintln(w, "Kept:")
		for _, k := range doc.Kept {
			fmt.Fprintf(w, "  %s\n", k.Path)
			for _, r := range k.Reasons {
				fmt.Fprintf(w, "      %s\n", r)
			}
		}
		fmt.Fprintln(w)
	}
	b, a := doc.Original, doc.Minimised
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\toriginal\tminimised\t")
	fmt.Fprintf(tw, "compressed\t%s\t%s\t%s\n", human(b.Compressed), human(a.Compressed), change(b.Compressed, a.Compressed))
	fmt.Fprintf(tw, "uncompressed\t%s\t%s\t%s\n", human(b.Uncompressed), human(a.Uncompressed), change(b.Uncompressed, a.Uncompressed))
	fmt.Fprintf(tw, "layers\t%d\t%d\t\n", b.Layers, a.Layers)
	fmt.Fprintf(tw, "files\t%d\t%d\t\n", b.Files, a.Files)
	fmt.Fprintf(tw, "wasted (overwritten or deleted by later layers)\t%s\t%s\t\n", human(b.WastedBytes), human(a.WastedBytes))
	fmt.Fprintf(tw, "cold start p50\t%s\t%s\t\n", p50(proof.Original), p50(proof.Minimised))
	tw.Flush()
	if doc.SkippedCount > 0 {
		fmt.Fprintf(w, "\n%d unsafe layer entries left out:\n", doc.SkippedCount)
		for _, s := range doc.Skipped {
			fmt.Fprintf(w, "  layer %d %s: %s\n", s.Layer, s.Name, s.Reason)
		}
	}
	for _, m := range doc.Missing {
		fmt.Fprintf(w, "note: %s (the original lacks it too)\n", m)
	}
	for _, n := range doc.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	switch {
	case doc.Written:
		starts := fmt.Sprintf("%d interleaved cold starts each", len(proof.Minimised.Samples))
		if len(proof.Minimised.Samples) == 1 {
			starts = "one cold start each"
		}
		fmt.Fprintf(w, "\nBoth images answered the same in %s; wrote %s (%s).\n", starts, doc.Destination, doc.Digest)
	default:
		fmt.Fprintf(w, "\nThe minimised image failed: %s\n", doc.Failure)
		if doc.MissingFile != "" {
			fmt.Fprintf(w, "It probably lacks %s (%s in its traced run).\n", doc.MissingFile, proof.MissingHow)
		}
	}
}

func p50(r verify.Run) string {
	vals := verify.Values(r.Samples, verify.MetricColdStart)
	if len(vals) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f ms (%d)", stats.Summarize(vals).P50, len(vals))
}

func change(before, after int64) string {
	if before <= 0 {
		return ""
	}
	pct := 100 * float64(after-before) / float64(before)
	if pct < -99 && after > 0 {
		return fmt.Sprintf("%+.1f%%", pct) // not -100% while something is left
	}
	return fmt.Sprintf("%+.0f%%", pct)
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
