package image

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// benchImage is layers of many files with compressible content, about
// perLayer bytes each.
func benchImage(b *testing.B, layers, perLayer int) v1.Image {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"lambda", "bootstrap", "runtime", "layer", "image", "cold", "start", "\n"}
	var ls []v1.Layer
	for l := 0; l < layers; l++ {
		entries := []entry{dir(fmt.Sprintf("l%d/", l))}
		for size := 0; size < perLayer; {
			n := 4<<10 + rng.IntN(256<<10)
			data := make([]byte, 0, n)
			for len(data) < n {
				data = append(data, words[rng.IntN(len(words))]...)
			}
			mode := int64(0o644)
			if rng.IntN(8) == 0 {
				mode = 0o755
			}
			entries = append(entries, file(fmt.Sprintf("l%d/f%05d", l, len(entries)), mode, data))
			size += len(data)
		}
		// Compressed once: the layer serves these bytes as a registry or
		// layout would, instead of compressing on every read.
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(tarOf(b, entries...))
		zw.Close()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(gz.Bytes())), nil }, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			b.Fatal(err)
		}
		ls = append(ls, l)
	}
	return imageOf(b, "arm64", v1.Config{}, ls...)
}

// BenchmarkReadFiles compares reading an image's file tree as Check does
// (scanLayers: parallel, klauspost gzip, digests verified) with one plain sequential
// decompression pass (compress/gzip to io.Discard) over the same layers,
// and reports the ratio: below 1 means the scan costs less than a plain
// pass.
func BenchmarkReadFiles(b *testing.B) {
	img := benchImage(b, 4, 32<<20)
	layers, err := img.Layers()
	if err != nil {
		b.Fatal(err)
	}
	plain := func() {
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				b.Fatal(err)
			}
			zr, err := gzip.NewReader(rc)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, zr); err != nil {
				b.Fatal(err)
			}
			rc.Close()
		}
	}
	var plainTime, scanTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		plain()
		plainTime += time.Since(start)
		start = time.Now()
		for _, s := range scanLayers(layers) {
			if s.err != nil {
				b.Fatal(s.err)
			}
		}
		scanTime += time.Since(start)
	}
	b.ReportMetric(float64(scanTime)/float64(plainTime), "scan/plain")
	b.ReportMetric(float64(scanTime.Milliseconds())/float64(b.N), "scan-ms/op")
	b.ReportMetric(float64(plainTime.Milliseconds())/float64(b.N), "plain-ms/op")
}
