// Package countio counts the bytes that pass through a reader or a writer:
// the one counter fnopt uses for layer sizes, offsets in an archive, the
// decompression budget of image layers and the size of a written layer.
package countio

import "io"

// Reader counts the bytes read through it. With a limit (NewLimitedReader)
// it also stops a stream that runs past it, as a decompression bomb does.
type Reader struct {
	r   io.Reader
	n   int64
	eof bool
	// max and overMax: once more than max bytes were read, Read returns
	// overMax (nil: no limit).
	max     int64
	overMax error
}

// NewReader counts what is read from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// NewLimitedReader counts what is read from r and returns err from the
// read that takes the count past max. Unlike io.LimitReader, reaching the
// limit is an error, not the end of the stream: the caller learns that the
// stream was too long rather than reading a truncated one.
func NewLimitedReader(r io.Reader, max int64, err error) *Reader {
	return &Reader{r: r, max: max, overMax: err}
}

func (c *Reader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.eof = true
	}
	if c.overMax != nil && c.n > c.max {
		return n, c.overMax
	}
	return n, err
}

// N is the number of bytes read so far.
func (c *Reader) N() int64 { return c.n }

// EOF reports whether the stream has ended (its reader returned io.EOF):
// only then is N the size of the whole stream.
func (c *Reader) EOF() bool { return c.eof }

// Writer counts the bytes written through it.
type Writer struct {
	w io.Writer
	n int64
}

// NewWriter counts what is written to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

func (c *Writer) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// N is the number of bytes written so far.
func (c *Writer) N() int64 { return c.n }
