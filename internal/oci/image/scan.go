package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"runtime"
	"sort"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/fnopt/fnopt/internal/countio"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
)

// Compression of a layer blob, as its first bytes say (not as its media
// type claims).
const (
	CompressionGzip = "gzip"
	CompressionZstd = "zstd"
	CompressionNone = "none"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// layerScan is what one pass over a layer finds.
type layerScan struct {
	index     int
	digest    v1.Hash
	mediaType types.MediaType
	// compression is what the blob's magic bytes say.
	compression string
	// uncompressed counts the bytes of the tar stream (or the size the
	// layer reports, when it knows it without reading).
	uncompressed int64
	// missingParents are the parent folders entries need that the layer
	// does not list.
	missingParents []string
	entries        []scannedEntry
	err            error
}

// scannedEntry is one entry of a layer and, for an executable regular
// file, the start of its content (for the entrypoint rules of Check).
type scannedEntry struct {
	entry rootfs.Entry
	head  []byte
}

// headBytes of every executable file are kept while reading layers: the
// ELF header, program headers and PT_INTERP of ordinary executables sit
// in the first kilobyte.
const headBytes = 2048

// withUncompressedSize is the optional method layers that know their
// uncompressed size have (as partial.UncompressedSize looks for).
type withUncompressedSize interface {
	UncompressedSize() (int64, error)
}

// scanLayers reads every layer once, several at a time, and returns the
// scans in layer order.
func scanLayers(layers []v1.Layer) []layerScan {
	out := make([]layerScan, len(layers))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, l := range layers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = scanLayer(i, l)
		}()
	}
	wg.Wait()
	return out
}

func scanLayer(i int, l v1.Layer) layerScan {
	s := layerScan{index: i}
	var err error
	if s.digest, err = l.Digest(); err != nil {
		s.err = fmt.Errorf("layer %d digest: %w", i, err)
		return s
	}
	if s.mediaType, err = l.MediaType(); err != nil {
		s.err = fmt.Errorf("layer %d media type: %w", i, err)
		return s
	}
	rc, err := l.Compressed()
	if err != nil {
		s.err = fmt.Errorf("reading layer %d (%s): %w", i, s.digest, err)
		return s
	}
	defer rc.Close()
	// The blob is hashed as it is read: layouts and tarballs do not
	// verify digests themselves, and a layer that does not match its
	// digest is not the image the manifest names.
	var h hash.Hash
	var blob io.Reader = rc
	if s.digest.Algorithm == "sha256" {
		h = sha256.New()
		blob = io.TeeReader(rc, h)
	}
	br := bufio.NewReaderSize(blob, 1<<16)
	magic, _ := br.Peek(4)
	var stream io.Reader
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		s.compression = CompressionGzip
		zr, err := gzip.NewReader(br)
		if err != nil {
			s.err = fmt.Errorf("reading layer %d (%s): %w", i, s.digest, err)
			return s
		}
		defer zr.Close()
		stream = zr
	case bytes.HasPrefix(magic, zstdMagic):
		s.compression = CompressionZstd
		zr, err := zstd.NewReader(br)
		if err != nil {
			s.err = fmt.Errorf("reading layer %d (%s): %w", i, s.digest, err)
			return s
		}
		defer zr.Close()
		stream = zr
	default:
		s.compression = CompressionNone
		stream = br
	}
	cr := countio.NewReader(stream)
	if err := s.readTar(cr); err != nil {
		s.err = fmt.Errorf("reading layer %d (%s): %w", i, s.digest, err)
		return s
	}
	// Read to the end: the tar's trailing padding counts, and remote
	// layers verify their digest at EOF.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		s.err = fmt.Errorf("reading layer %d (%s): %w", i, s.digest, err)
		return s
	}
	if _, err := io.Copy(io.Discard, br); err != nil { // bytes after the compressed stream
		s.err = fmt.Errorf("reading layer %d (%s): %w", i, s.digest, err)
		return s
	}
	if h != nil && hex.EncodeToString(h.Sum(nil)) != s.digest.Hex {
		s.err = fmt.Errorf("layer %d: content does not match its digest %s", i, s.digest)
		return s
	}
	s.uncompressed = cr.N()
	if ws, ok := l.(withUncompressedSize); ok {
		if n, err := ws.UncompressedSize(); err == nil {
			s.uncompressed = n
		}
	}
	return s
}

func (s *layerScan) readTar(r io.Reader) error {
	tr := tar.NewReader(r)
	listed := map[string]bool{"/": true}
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		// The entry as every reader of layers sees it (rootfs.EntryOf:
		// unsafe names skipped, whiteouts recognised).
		e := scannedEntry{entry: rootfs.EntryOf(h, s.index)}
		if h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0 {
			head := make([]byte, headBytes)
			n, err := io.ReadFull(tr, head)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				return fmt.Errorf("reading %s: %w", h.Name, err)
			}
			e.head = head[:n]
		}
		// Lambda wants every parent folder listed in the layer itself,
		// whatever the entry is.
		name := path.Clean("/" + h.Name)
		if h.Typeflag == tar.TypeDir {
			listed[name] = true
		}
		names = append(names, name)
		s.entries = append(s.entries, e)
	}
	missing := map[string]bool{}
	for _, name := range names {
		for d := path.Dir(name); d != "/"; d = path.Dir(d) {
			if !listed[d] {
				missing[d] = true
			}
		}
	}
	for d := range missing {
		s.missingParents = append(s.missingParents, d)
	}
	sort.Strings(s.missingParents)
	return nil
}

// mergedTree applies the entries of the layer scans, bottom layer first,
// to the image's merged tree (the rules Flatten follows). Scans that
// failed are passed over: Check reports them.
func mergedTree(scans []layerScan) *rootfs.Tree {
	t := rootfs.NewTree()
	for _, s := range scans {
		if s.err != nil {
			continue
		}
		for _, e := range s.entries {
			t.Apply(e.entry, e.head)
		}
	}
	return t
}
