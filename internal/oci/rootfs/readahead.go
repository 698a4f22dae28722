package rootfs

import (
	"io"
	"sync"
)

// readahead reads (and so decompresses) a layer in its own goroutine,
// ahead of the consumer, so decompression and extraction run on two cores.
// At most `depth` buffers of `size` bytes are in flight: memory stays
// bounded whatever the layer's size.
type readahead struct {
	full chan chunk
	free chan []byte
	stop chan struct{}
	wg   sync.WaitGroup
	cur  chunk
	off  int
}

type chunk struct {
	b   []byte
	err error
}

func newReadahead(r io.Reader, size, depth int) *readahead {
	ra := &readahead{
		full: make(chan chunk, depth),
		free: make(chan []byte, depth),
		stop: make(chan struct{}),
	}
	for range depth {
		ra.free <- make([]byte, size)
	}
	ra.wg.Add(1)
	go ra.fill(r)
	return ra
}

// fill fills free buffers until r ends or fails; the end (io.EOF or the
// error) travels with the last chunk.
func (ra *readahead) fill(r io.Reader) {
	defer ra.wg.Done()
	for {
		var buf []byte
		select {
		case buf = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := 0, error(nil)
		for n < len(buf) && err == nil {
			var m int
			m, err = r.Read(buf[n:])
			n += m
		}
		select {
		case ra.full <- chunk{buf[:n], err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (ra *readahead) Read(p []byte) (int, error) {
	for ra.off == len(ra.cur.b) {
		if ra.cur.err != nil {
			return 0, ra.cur.err
		}
		if ra.cur.b != nil {
			ra.free <- ra.cur.b[:cap(ra.cur.b)]
		}
		ra.cur, ra.off = <-ra.full, 0
	}
	n := copy(p, ra.cur.b[ra.off:])
	ra.off += n
	return n, nil
}

// Close stops the reading goroutine and waits for it; the underlying
// reader is the caller's to close.
func (ra *readahead) Close() {
	close(ra.stop)
	ra.wg.Wait()
}
