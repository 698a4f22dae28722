package slim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"

	"github.com/fnopt/fnopt/internal/countio"
)

// countedImage is an image whose layers decompress gzip with
// klauspost/compress (about twice as fast as compress/gzip, which
// go-containerregistry uses) and count their uncompressed bytes, so the
// passes over the layers also measure them and no extra pass is needed.
type countedImage struct {
	v1.Image
	layers []*countedLayer
}

func newCountedImage(img v1.Image) (*countedImage, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	c := &countedImage{Image: img}
	for _, l := range ls {
		c.layers = append(c.layers, &countedLayer{Layer: l})
	}
	return c, nil
}

func (c *countedImage) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, len(c.layers))
	for i, l := range c.layers {
		out[i] = l
	}
	return out, nil
}

// uncompressed is the size of layer i's tar stream, as last read to its end.
func (c *countedImage) uncompressed(i int) int64 { return c.layers[i].size.Load() }

type countedLayer struct {
	v1.Layer
	size atomic.Int64
}

var gzipMagic = []byte{0x1f, 0x8b}

// Uncompressed streams the layer's tar. Close reads the rest of the
// stream, so that the size is the whole tar's and a registry's digest
// check (at the end of the compressed stream) happens.
func (l *countedLayer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 1<<16)
	magic, _ := br.Peek(2)
	if !bytes.Equal(magic, gzipMagic) {
		// zstd or uncompressed: go-containerregistry's own reader.
		rc.Close()
		u, err := l.Layer.Uncompressed()
		if err != nil {
			return nil, err
		}
		return &countingReadCloser{Reader: countio.NewReader(u), close: u.Close, layer: l}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("reading the layer's gzip stream: %w", err)
	}
	c := &countingReadCloser{Reader: countio.NewReader(zr), layer: l}
	c.close = func() error {
		zr.Close()
		if c.EOF() {
			// Bytes after the gzip stream; a registry layer checks its
			// digest when its stream ends.
			if _, err := io.Copy(io.Discard, br); err != nil {
				rc.Close()
				return err
			}
		}
		return rc.Close()
	}
	return c, nil
}

// maxTrailer bounds the bytes read after a tar's end-of-archive marker
// (tar pads archives to 10 KiB records).
const maxTrailer = 64 << 10

// countingReadCloser counts a layer's tar stream and, when the stream was
// read to its end, records its size in the layer.
type countingReadCloser struct {
	*countio.Reader
	close func() error
	layer *countedLayer
}

func (c *countingReadCloser) Close() error {
	whole := c.EOF()
	if !whole {
		// A tar reader stops at the end-of-archive marker, before the
		// padding that may follow it: read that too (but never a big
		// rest, as after an error in a huge layer). Only a layer read to
		// its end has a known size.
		n, err := io.Copy(io.Discard, io.LimitReader(c.Reader, maxTrailer+1))
		whole = err == nil && n <= maxTrailer
	}
	if whole {
		c.layer.size.Store(c.N())
	}
	return c.close()
}
