package slim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/sandbox"
)

// ProofOptions say how the original and minimised images are compared.
type ProofOptions struct {
	// Samples is the number of cold starts of each (interleaved).
	Samples int
	// Event is the payload of every invocation.
	Event []byte
	// Insecure allows a plain-HTTP registry on loopback for the original.
	Insecure bool
	// Output also receives both functions' output.
	Output io.Writer
	// Progress is called after each sample.
	Progress func(done, total int)
	// Expect, when set, replaces equality with the original's response
	// (for responses holding times or request ids).
	Expect *verify.Expect
}

// Proof is the outcome of running both images.
type Proof struct {
	// Original and Minimised are the measured runs.
	Original, Minimised verify.Run
	// MissingFile is, when the minimised image failed, the first file
	// its traced run could not open: what it most probably lacks.
	MissingFile string
	// MissingHow is the failed call ("openat ENOENT").
	MissingHow string
}

// OK reports whether the minimised image answered like the original.
func (p *Proof) OK() bool { return p.Original.OK() && p.Minimised.OK() }

// Prove runs the original image src and the minimised one side by side
// with the same event, requiring every response to equal want (the
// original's response in the traced run; nil only requires answers). When the minimised image fails,
// it is run once more traced to name the file it probably lacks.
func Prove(ctx context.Context, src string, minimised v1.Image, want []byte, o ProofOptions) (*Proof, error) {
	tmp, err := os.MkdirTemp("", "fnopt-slim-proof-")
	if err != nil {
		return nil, fmt.Errorf("creating a working folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	minRef := "oci:" + filepath.Join(tmp, "minimised")
	ref, err := image.ParseRef(minRef)
	if err != nil {
		return nil, err
	}
	if err := image.Write(ctx, minimised, ref, image.WriteOptions{}); err != nil {
		return nil, fmt.Errorf("writing the minimised image for the proof: %w", err)
	}
	popts := verify.PrepareOptions{Insecure: o.Insecure}
	orig, err := verify.PrepareImage(ctx, src, popts)
	if err != nil {
		return nil, fmt.Errorf("preparing the original image: %w", err)
	}
	defer orig.Close()
	orig.Name = "original"
	min, err := verify.PrepareImage(ctx, minRef, popts)
	if err != nil {
		return nil, fmt.Errorf("preparing the minimised image: %w", err)
	}
	defer min.Close()
	min.Name = "minimised"
	expect := o.Expect
	if expect == nil && want != nil {
		if expect, err = expectOf(want); err != nil {
			return nil, err
		}
	}
	runs, err := verify.Measure(ctx, []*verify.Target{orig, min}, verify.Options{
		Samples: o.Samples, Event: o.Event, Expect: expect, Output: o.Output, Progress: o.Progress,
	})
	if err != nil {
		return nil, err
	}
	p := &Proof{Original: runs[0], Minimised: runs[1]}
	if !p.Original.OK() {
		return p, fmt.Errorf("%w its proof run: %v", ErrOriginalFails, p.Original.Failure)
	}
	if p.Minimised.OK() {
		return p, nil
	}
	if err := p.findMissing(ctx, minimised, filepath.Join(tmp, "root"), o.Event); err != nil {
		return p, err
	}
	return p, nil
}

// findMissing runs the minimised image once traced and names its first
// failed open.
func (p *Proof) findMissing(ctx context.Context, img v1.Image, dir string, event []byte) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if _, err := rootfs.Flatten(ctx, img, dir, rootfs.Limits{}); err != nil {
		return fmt.Errorf("flattening the minimised image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	if len(event) == 0 {
		event = []byte(verify.DefaultEvent)
	}
	tr, err := traceImage(ctx, dir, cf, event)
	if err != nil {
		return err
	}
	if a := sandbox.FirstFailedOpen(tr.Accesses); a != nil {
		p.MissingFile = a.Resolved
		if p.MissingFile == "" {
			p.MissingFile = a.Path
		}
		p.MissingHow = a.Syscall + " " + a.Errno
	}
	return nil
}

// expectOf is the expectation that a response equals want: as JSON when
// it is JSON, byte for byte otherwise.
func expectOf(want []byte) (*verify.Expect, error) {
	if json.Valid(want) {
		return verify.ParseExpect(string(want))
	}
	return verify.ParseExpect("/^" + regexp.QuoteMeta(string(want)) + "$/")
}
