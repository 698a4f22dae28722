package slim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/verify"
)

// MinimizeAndProveOptions say how MinimizeAndProve works.
type MinimizeAndProveOptions struct {
	// Options say how to minimise; their Event is also the proof's.
	Options
	// Samples is the number of cold starts of each image in the proof
	// (interleaved); at least 1.
	Samples int
	// Expect, when set, replaces equality with the original's response
	// in the proof (for responses holding times or request ids).
	Expect *verify.Expect
	// Platform picks the image out of a multi-platform src (nil: this
	// machine's).
	Platform *v1.Platform
	// Insecure allows plain HTTP to registries on loopback, for src and
	// dst.
	Insecure bool
	// OnStage, when set, is told as each stage begins (to show progress).
	OnStage func(Stage)
	// Progress, when set, is called after each cold start of the proof.
	Progress func(done, total int)
}

// Stage is a step of MinimizeAndProve.
type Stage int

const (
	// StageDownload copies a registry image into a local layout: it is
	// read several times (metadata, flattening, the proof).
	StageDownload Stage = iota + 1
	// StageMinimize makes the minimised image (with the traced run).
	StageMinimize
	// StageProve runs both images side by side.
	StageProve
)

// Outcome is what MinimizeAndProve found and did.
type Outcome struct {
	// Before and After describe the original and the minimised image.
	Before, After Stats
	// Kept are the paths of the minimised image and why each is there.
	Kept []Kept
	// Skipped are unsafe layer entries left out (at most 100;
	// SkippedCount has the total).
	Skipped      []Skipped
	SkippedCount int
	// Missing are libraries programs need that the image does not have.
	Missing []string
	// Notes are what minimising noticed and what the measurement could
	// not do as asked (a memory limit not enforced, say), each once.
	Notes []string
	// Proof is the side-by-side run of both images; nil when the
	// minimised image was not smaller (NotSmaller), so not worth proving.
	Proof *Proof
	// NotSmaller is true when the minimised image would be no smaller
	// than the original (compressed, what a registry stores and Lambda
	// pulls, or unpacked): the original is as small as minimising makes
	// it, and nothing was written.
	NotSmaller bool
	// Written is true when the minimised image answered like the
	// original and was written to dst; Digest is then its digest.
	Written bool
	Digest  v1.Hash
}

// notSmaller reports whether the minimised image after gains nothing on
// before: never write an image that is not smaller than its input.
func notSmaller(before, after Stats) bool {
	return after.Compressed >= before.Compressed || after.Uncompressed > before.Uncompressed
}

// MinimizeAndProve minimises the image src, runs the original and the
// minimised image side by side with the same event, and writes the
// minimised image to dst only when it answered exactly like the original
// in every cold start. dst must not exist (image.CheckAbsent); it is never
// overwritten. A minimised image that would not be smaller than src is
// neither proven nor written: Outcome.NotSmaller says so.
//
// A minimised image that answers differently is not an error: the Outcome
// says so (Written false, Proof naming the file it probably lacks). An
// original that fails its own traced run or proof is an error wrapping
// ErrOriginalFails. Working folders are removed before MinimizeAndProve
// returns, on every path.
func MinimizeAndProve(ctx context.Context, src, dst image.Ref, o MinimizeAndProveOptions) (out *Outcome, err error) {
	if o.Samples < 1 {
		return nil, errors.New("the proof needs at least one cold start of each image")
	}
	if err = image.CheckInsecure(dst, o.Insecure); err != nil {
		return nil, err
	}
	if err = image.CheckAbsent(dst); err != nil {
		return nil, err
	}
	img, err := image.Load(ctx, src, image.LoadOptions{Platform: o.Platform, Insecure: o.Insecure})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of %s: %w", src, err)
	}
	if host := settings.HostArch(); cf.Architecture != "" && cf.Architecture != host.GOARCH() {
		return nil, fmt.Errorf("image %s is for %s and this machine is %s: minimising runs the function, so run fnopt on a %s machine", src, cf.Architecture, host.GOARCH(), cf.Architecture)
	}
	// removeLater removes a working folder when MinimizeAndProve
	// returns; failing to is an error when nothing else went wrong.
	removeLater := func(remove func() error) {
		if rerr := remove(); rerr != nil && err == nil {
			out, err = nil, fmt.Errorf("removing the working folders: %w", rerr)
		}
	}
	proofSrc := src
	if src.Kind == image.Registry {
		o.stage(StageDownload)
		tmp, terr := os.MkdirTemp("", "fnopt-optimize-image-")
		if terr != nil {
			return nil, terr
		}
		defer removeLater(func() error { return os.RemoveAll(tmp) })
		local := image.Ref{Kind: image.OCI, Path: filepath.Join(tmp, "src")}
		if err = image.Write(ctx, img, local, image.WriteOptions{}); err != nil {
			return nil, fmt.Errorf("downloading %s: %w", src, err)
		}
		if img, err = image.Load(ctx, local, image.LoadOptions{}); err != nil {
			return nil, err
		}
		proofSrc = local
	}

	o.stage(StageMinimize)
	res, err := Minimize(ctx, img, o.Options)
	if err != nil {
		return nil, err
	}
	defer removeLater(res.Close)
	out = &Outcome{
		Before: res.Before, After: res.After, Kept: res.Kept,
		Skipped: res.Skipped, SkippedCount: res.SkippedCount, Missing: res.Missing, Notes: slices.Clone(res.Notes),
	}
	if notSmaller(res.Before, res.After) {
		// Already as small as minimising makes it (a bootstrap on an
		// empty base, say): one rewritten layer would only add bytes.
		out.NotSmaller = true
		return out, nil
	}

	o.stage(StageProve)
	// Both images must give the response the original gave in its traced
	// run (without one, only answers are required).
	var want []byte
	if res.Traced != nil {
		want = res.Traced.Response
	}
	popts := ProofOptions{Samples: o.Samples, Event: o.Event, Insecure: o.Insecure, Expect: o.Expect, Progress: o.Progress}
	if out.Proof, err = Prove(ctx, proofSrc.String(), res.Image, want, popts); err != nil {
		return nil, err
	}
	if err = ctx.Err(); err != nil {
		return nil, err // interrupted as the last sample ended: write nothing
	}
	for _, r := range []verify.Run{out.Proof.Original, out.Proof.Minimised} {
		for _, n := range r.Notes {
			if !slices.Contains(out.Notes, n) {
				out.Notes = append(out.Notes, n)
			}
		}
	}
	if !out.Proof.OK() {
		return out, nil
	}
	if err = image.Write(ctx, res.Image, dst, image.WriteOptions{Insecure: o.Insecure}); err != nil {
		return nil, fmt.Errorf("writing %s: %w", dst, err)
	}
	if out.Digest, err = res.Image.Digest(); err != nil {
		return nil, err
	}
	out.Written = true
	return out, nil
}

func (o MinimizeAndProveOptions) stage(s Stage) {
	if o.OnStage != nil {
		o.OnStage(s)
	}
}
