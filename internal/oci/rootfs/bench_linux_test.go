package rootfs

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// benchImage builds a gzip-compressed image of layers×files files of
// size bytes each, with half-compressible contents like binaries.
func benchImage(b *testing.B, layers, files, size int) (v1.Image, int64) {
	rng := rand.New(rand.NewPCG(1, 2))
	var total int64
	var ls []v1.Layer
	for range layers {
		var raw bytes.Buffer
		tw := tar.NewWriter(&raw)
		for f := range files {
			body := make([]byte, size)
			for i := 0; i < size; i += 2 {
				body[i] = byte(rng.IntN(256))
			}
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%d/f%d", f%16, f), Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg})
			tw.Write(body)
			total += int64(size)
		}
		tw.Close()
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
		zw.Write(raw.Bytes())
		zw.Close()
		data := gz.Bytes()
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			b.Fatal(err)
		}
		ls = append(ls, layer)
	}
	img, err := mutate.AppendLayers(empty.Image, ls...)
	if err != nil {
		b.Fatal(err)
	}
	return img, total
}

// BenchmarkFlatten compares Flatten with one plain decompression pass over
// the same layers (reading them to io.Discard): the ratio of the two ns/op
// is the cost of the safe extraction (openat2 per entry, writes to disk).
func BenchmarkFlatten(b *testing.B) {
	img, total := benchImage(b, 4, 128, 64<<10) // 32 MiB in 512 files
	b.Run("decompress-only", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			layers, _ := img.Layers()
			for _, l := range layers {
				rc, err := l.Uncompressed()
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, rc)
				rc.Close()
			}
		}
	})
	b.Run("flatten", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			dir := b.TempDir()
			if _, err := Flatten(context.Background(), img, dir, Limits{}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	b.Run("tree", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			t := NewTree()
			err := Walk(context.Background(), img, Limits{}, func(e Entry, _ io.Reader) error {
				t.Apply(e, nil)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
