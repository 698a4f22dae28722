package optimizecmd

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/internal/version"
	"github.com/fnopt/fnopt/optimize/slim"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/stats"
)

// ImageSchema names the version of `optimize image --json`.
const ImageSchema = "fnopt.optimize.image/v1"

// ImageDocument is the --json output.
type ImageDocument struct {
	Schema string `json:"schema"`
	// FnoptVersion is the fnopt that minimised (internal/version).
	FnoptVersion string `json:"fnopt_version"`
	Source       string `json:"source"`
	Destination  string `json:"destination"`
	Written      bool   `json:"written"`
	// NotSmaller: the minimised image would be no smaller than the
	// original, so nothing was proven or written (exit status 0).
	NotSmaller   bool           `json:"not_smaller,omitempty"`
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

// imageDocument is the report of out; kept paths are listed for --explain
// and --json only.
func imageDocument(o *ImageOptions, out *slim.Outcome) *ImageDocument {
	doc := &ImageDocument{
		Schema: ImageSchema, FnoptVersion: version.Get().Version, Source: o.Src, Destination: o.Dst, Written: out.Written, NotSmaller: out.NotSmaller,
		Original: out.Before, Minimised: out.After,
		Skipped: out.Skipped, SkippedCount: out.SkippedCount, Missing: out.Missing, Notes: out.Notes,
		ColdStartMs: map[string]any{},
	}
	if out.Proof != nil {
		doc.ColdStartMs = map[string]any{"original": summary(out.Proof.Original), "minimised": summary(out.Proof.Minimised)}
	}
	if o.Explain || o.JSON {
		doc.Kept = out.Kept
	}
	switch {
	case out.Written:
		doc.Digest = out.Digest.String()
	case out.Proof != nil:
		doc.Failure = out.Proof.Minimised.Failure.Error()
		doc.MissingFile = out.Proof.MissingFile
	}
	return doc
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
	fmt.Fprintf(tw, "compressed\t%s\t%s\t%s\n", bytesize.Format(b.Compressed), bytesize.Format(a.Compressed), change(b.Compressed, a.Compressed))
	fmt.Fprintf(tw, "uncompressed\t%s\t%s\t%s\n", bytesize.Format(b.Uncompressed), bytesize.Format(a.Uncompressed), change(b.Uncompressed, a.Uncompressed))
	fmt.Fprintf(tw, "layers\t%d\t%d\t\n", b.Layers, a.Layers)
	fmt.Fprintf(tw, "files\t%d\t%d\t\n", b.Files, a.Files)
	fmt.Fprintf(tw, "wasted (overwritten or deleted by later layers)\t%s\t%s\t\n", bytesize.Format(b.WastedBytes), bytesize.Format(a.WastedBytes))
	if explain {
		// dive's figures, for its users' thresholds (docs/image.md).
		be, ae := b.Efficiency, a.Efficiency
		fmt.Fprintf(tw, "efficiency (dive)\t%.2f%%\t%.2f%%\t\n", 100*be.Score, 100*ae.Score)
		fmt.Fprintf(tw, "wasted bytes (dive)\t%s\t%s\t\n", bytesize.Format(be.WastedBytes), bytesize.Format(ae.WastedBytes))
		fmt.Fprintf(tw, "user wasted (dive)\t%.2f%%\t%.2f%%\t\n", 100*be.UserWastedPercent, 100*ae.UserWastedPercent)
	}
	if proof != nil {
		fmt.Fprintf(tw, "cold start p50\t%s\t%s\t\n", p50(proof.Original), p50(proof.Minimised))
	}
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
	case doc.NotSmaller:
		fmt.Fprintf(w, "\nThe minimised image would not be smaller than %s: it is as small as minimising makes it. Nothing written to %s.\n", doc.Source, doc.Destination)
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
