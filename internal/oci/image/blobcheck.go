package image

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Every blob read from an OCI layout or a tarball is checked against the
// descriptor that names it, as go-containerregistry's remote package checks
// what a registry sends: a layer edited in place must not be measured or
// re-published as the image its manifest names. Small blobs (manifests,
// configs) are checked whole when read; layers are hashed while they
// stream to their reader, so a 500 MB layer is read once, not once to
// check and once to use. (validate.Image would read every layer a second
// time.)

// BlobError says that a blob read from an OCI layout or a tarball is not
// the one its descriptor names: its bytes do not hash to the digest, or
// there are more or fewer of them than the descriptor's size.
type BlobError struct {
	// Kind is what the blob is to the image: "layer", "config",
	// "manifest", "index", or "uncompressed layer" when a tarball's layer
	// is checked against its diff ID.
	Kind   string
	Digest v1.Hash
	// Source is the image reference the blob was read from (oci:DIR,
	// tar:FILE).
	Source string
	// Size is what the descriptor says (-1 when it says nothing), Got how
	// many bytes were read (Size+1 when the blob is longer).
	Size, Got int64
}

func (e *BlobError) Error() string {
	what := "the layout"
	if strings.HasPrefix(e.Source, "tar:") {
		what = "the tarball"
	}
	problem := "does not match its digest"
	switch {
	case e.Size >= 0 && e.Got > e.Size:
		problem = fmt.Sprintf("is longer than the %d bytes its descriptor says", e.Size)
	case e.Size >= 0 && e.Got < e.Size:
		problem = fmt.Sprintf("is %d bytes, not the %d its descriptor says", e.Got, e.Size)
	}
	return fmt.Sprintf("%s %s of %s %s: %s was changed after it was written; rebuild or re-pull it", e.Kind, e.Digest, e.Source, problem, what)
}

// checkBytes checks a blob read whole against its digest and size (size
// -1: not known).
func checkBytes(b []byte, digest v1.Hash, size int64, kind, source string) error {
	h, err := v1.Hasher(digest.Algorithm)
	if err != nil {
		return fmt.Errorf("%s %s of %s: %w", kind, digest, source, err)
	}
	h.Write(b)
	if (size >= 0 && int64(len(b)) != size) || hex.EncodeToString(h.Sum(nil)) != digest.Hex {
		return &BlobError{Kind: kind, Digest: digest, Source: source, Size: size, Got: int64(len(b))}
	}
	return nil
}

// maxDrain is how much of a blob Close still reads to reach its end and
// check it. A tar reader stops at the end-of-archive marker and a
// decompressor at the end of its stream, leaving padding and trailers
// (tar pads to 10 KiB records) that belong to the blob's digest too.
const maxDrain = 1 << 20

// checkedReader reads a blob and checks it against its descriptor as it
// goes. The verdict comes with the end of the stream, as a *BlobError in
// place of io.EOF, and again from Close. Close reads what is left (up to
// maxDrain) so a reader that stopped just short of the end still gets the
// check; a reader that gave up earlier (an error, an interrupt) used only
// part of the blob and gets no verdict.
type checkedReader struct {
	r    io.Reader // the blob, limited to one byte past its size
	c    io.Closer
	h    hash.Hash
	n    int64
	done bool  // the end was reached and err is the verdict
	err  error // the verdict, or the error reading failed with
	desc BlobError
}

// newCheckedReader wraps rc, the content of the blob digest (size bytes,
// -1 when not known).
func newCheckedReader(rc io.ReadCloser, digest v1.Hash, size int64, kind, source string) (io.ReadCloser, error) {
	h, err := v1.Hasher(digest.Algorithm)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("%s %s of %s: %w", kind, digest, source, err)
	}
	r := io.Reader(rc)
	if size >= 0 {
		// One byte more than the size shows a blob that is too long
		// without reading all of it.
		r = io.LimitReader(rc, size+1)
	}
	return &checkedReader{r: r, c: rc, h: h, desc: BlobError{Kind: kind, Digest: digest, Source: source, Size: size}}, nil
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	switch {
	case c.desc.Size >= 0 && c.n > c.desc.Size:
		c.finish()
		return n, c.err
	case errors.Is(err, io.EOF):
		c.finish()
		if c.err != nil {
			return n, c.err
		}
		return n, io.EOF
	case err != nil:
		c.err = err
	}
	return n, err
}

// finish compares what was read with the descriptor.
func (c *checkedReader) finish() {
	c.done = true
	if (c.desc.Size >= 0 && c.n != c.desc.Size) || hex.EncodeToString(c.h.Sum(nil)) != c.desc.Digest.Hex {
		e := c.desc
		e.Got = c.n
		c.err = &e
	}
}

func (c *checkedReader) Close() error {
	if !c.done && c.err == nil {
		io.CopyN(io.Discard, c, maxDrain) // sets the verdict when the end is near
	}
	cerr := c.c.Close()
	var berr *BlobError
	if errors.As(c.err, &berr) {
		return c.err
	}
	return cerr
}
