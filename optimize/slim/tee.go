package slim

import (
	"errors"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// teeImage lets several passes read an image's layers at the same time
// while each layer is fetched and decompressed once: the first pass to
// open a layer starts a goroutine that decompresses it and hands every
// chunk to each pass in turn (memory stays at one chunk; the slowest pass
// sets the pace). Each pass reads through its own view (pass) and says
// when it stops (done), so that it is no longer waited for.
type teeImage struct {
	img    v1.Image
	mu     sync.Mutex
	active []bool
	layers []*teeLayer
}

func newTeeImage(img v1.Image, passes int) (*teeImage, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	t := &teeImage{img: img, active: make([]bool, passes)}
	for i := range t.active {
		t.active[i] = true
	}
	for _, l := range ls {
		t.layers = append(t.layers, &teeLayer{src: l, readers: make([]*io.PipeReader, passes), taken: make([]bool, passes)})
	}
	return t, nil
}

// pass is the image as pass i reads it.
func (t *teeImage) pass(i int) v1.Image { return &teePass{Image: t.img, t: t, i: i} }

// done says pass i has stopped reading: the layers it has not opened are
// no longer handed to it.
func (t *teeImage) done(i int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.active[i] = false
	for _, l := range t.layers {
		if r := l.readers[i]; r != nil && !l.taken[i] {
			l.taken[i] = true
			r.CloseWithError(errPassDone)
		}
	}
}

var (
	errPassDone  = errors.New("pass ended")
	errTeeReopen = errors.New("layer opened twice by one pass")
)

type teePass struct {
	v1.Image
	t *teeImage
	i int
}

func (p *teePass) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, len(p.t.layers))
	for k, l := range p.t.layers {
		out[k] = &teeView{Layer: l.src, t: p.t, l: l, pass: p.i}
	}
	return out, nil
}

type teeLayer struct {
	src     v1.Layer
	started bool
	readers []*io.PipeReader // by pass; nil for passes that had ended
	taken   []bool
}

type teeView struct {
	v1.Layer
	t    *teeImage
	l    *teeLayer
	pass int
}

func (v *teeView) Uncompressed() (io.ReadCloser, error) {
	t, l := v.t, v.l
	t.mu.Lock()
	defer t.mu.Unlock()
	if !l.started {
		src, err := l.src.Uncompressed()
		if err != nil {
			return nil, err
		}
		l.started = true
		var writers []*io.PipeWriter
		for i, on := range t.active {
			if on || i == v.pass {
				r, w := io.Pipe()
				l.readers[i] = r
				writers = append(writers, w)
			}
		}
		go fanOut(src, writers)
	}
	if l.readers[v.pass] == nil || l.taken[v.pass] {
		return nil, errTeeReopen
	}
	l.taken[v.pass] = true
	return l.readers[v.pass], nil
}

// teeChunk is how much is decompressed before it is handed to the passes.
const teeChunk = 256 << 10

// fanOut copies src to every writer until src ends or no writer is left
// (a pass that closes its reader early is dropped). The end of src, or
// its error (including the digest check at Close), reaches every pass.
func fanOut(src io.ReadCloser, writers []*io.PipeWriter) {
	buf := make([]byte, teeChunk)
	alive := make([]bool, len(writers))
	live := len(writers)
	for i := range alive {
		alive[i] = true
	}
	var rerr error
	for live > 0 {
		n, err := io.ReadFull(src, buf)
		for i, w := range writers {
			if n > 0 && alive[i] {
				if _, werr := w.Write(buf[:n]); werr != nil {
					alive[i] = false
					live--
				}
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	if cerr := src.Close(); cerr != nil && rerr == nil {
		rerr = cerr
	}
	for _, w := range writers {
		w.CloseWithError(rerr) // nil: the readers see io.EOF
	}
}
