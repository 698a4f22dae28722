//go:build linux

package slim

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"

	"github.com/fnopt/fnopt/internal/oci/elfdeps"
	"github.com/fnopt/fnopt/internal/testenv"
)

// fillerLayer writes a gzip layer of about size bytes of unused files
// (compressible about 2:1, like binaries and data) to dir.
func fillerLayer(b *testing.B, dir string, index int, size int64) v1.Layer {
	b.Helper()
	file := filepath.Join(dir, fmt.Sprintf("filler-%d.tar.gz", index))
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	rng := rand.New(rand.NewPCG(uint64(index), 7))
	buf := make([]byte, 4<<20)
	for written, n := int64(0), 0; written < size; n++ {
		fsize := int64(64<<10 + rng.IntN(4<<20-64<<10))
		for i := range buf[:fsize] {
			buf[i] = byte(rng.IntN(16)) + 'a' // 4 bits of entropy per byte
		}
		name := fmt.Sprintf("usr/share/filler%d/f%05d.bin", index, n)
		if n == 0 {
			tw.WriteHeader(&tar.Header{Name: "usr/", Typeflag: tar.TypeDir, Mode: 0o755})
			tw.WriteHeader(&tar.Header{Name: "usr/share/", Typeflag: tar.TypeDir, Mode: 0o755})
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("usr/share/filler%d/", index), Typeflag: tar.TypeDir, Mode: 0o755})
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: fsize}); err != nil {
			b.Fatal(err)
		}
		tw.Write(buf[:fsize])
		written += fsize
	}
	tw.Close()
	zw.Close()
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	l, err := tarball.LayerFromFile(file, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// plainPass decompresses every layer once, one after the other, and
// discards the bytes: the least any tool reading the image must do.
func plainPass(b *testing.B, img v1.Image) time.Duration {
	b.Helper()
	layers, err := img.Layers()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
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
	return time.Since(start)
}

// BenchmarkMinimize500MB minimises the test function's image made about
// 500 MB by unused filler layers, and reports (run with -benchtime=1x):
//
//   - bytes/needed: the minimised image's uncompressed layer bytes against
//     the bytes of the files the function actually opens in a traced cold
//     start and invocation (target at most 1.1);
//   - time/plain: the time to minimise (static analysis and writing; the
//     traced run and the proof are verify runs, reported apart) against
//     one plain sequential gzip pass over the layers (target at most 2).
func BenchmarkMinimize500MB(b *testing.B) {
	testenv.RequireRoot(b)
	dir := b.TempDir()
	img, _ := fixture(b)
	const fillerLayers, fillerBytes = 4, 480 << 20
	var fillers []v1.Layer
	for i := range fillerLayers {
		fillers = append(fillers, fillerLayer(b, dir, i, fillerBytes/fillerLayers))
	}
	// Filler below the function's layers, as a big base would be.
	base, _ := img.Layers()
	cf, _ := img.ConfigFile()
	all := append(append([]v1.Layer{base[0]}, fillers...), base[1:]...)
	big := imageOf(b, cf.Config.Entrypoint, all...)
	big, _ = mutate.ConfigFile(big, cf)
	ctx := context.Background()

	// The traced minimisation once: what is needed, and how big the result is.
	start := time.Now()
	res, err := Minimize(ctx, big, Options{})
	if err != nil {
		b.Fatal(err)
	}
	traced := time.Since(start)
	needed := neededBytes(b, res)
	ratio := float64(res.After.Uncompressed) / float64(needed)
	res.Close()

	// Wall time, and CPU time (user + system of this process, which the
	// load of a shared machine disturbs less), interleaved.
	var plain, static, plainCPU, staticCPU []time.Duration
	b.ResetTimer()
	for range b.N {
		c0 := cpuTime()
		plain = append(plain, plainPass(b, big))
		c1 := cpuTime()
		start := time.Now()
		r, err := Minimize(ctx, big, Options{NoTrace: true})
		if err != nil {
			b.Fatal(err)
		}
		static = append(static, time.Since(start))
		staticCPU = append(staticCPU, cpuTime()-c1)
		plainCPU = append(plainCPU, c1-c0)
		r.Close()
	}
	b.StopTimer()
	tp, ts := median(plain), median(static)
	cp, cs := median(plainCPU), median(staticCPU)
	b.ReportMetric(ratio, "bytes/needed")
	b.ReportMetric(float64(ts)/float64(tp), "time/plain")
	b.ReportMetric(float64(cs)/float64(cp), "cpu/plain")
	b.Logf("CPU time: plain pass %v, minimise (static) %v: %.2fx", cp.Round(time.Millisecond), cs.Round(time.Millisecond), float64(cs)/float64(cp))
	b.Logf("image %.0f MB uncompressed, %.0f MB compressed in %d layers; minimised %d B uncompressed (%d B compressed), files the traced run opened or executed (with their interpreters) %d B: %.2fx",
		float64(res.Before.Uncompressed)/1e6, float64(res.Before.Compressed)/1e6, res.Before.Layers, res.After.Uncompressed, res.After.Compressed, needed, ratio)
	b.Logf("plain gzip pass %v, minimise (static) %v: %.2fx; minimise with the traced run %v", tp.Round(time.Millisecond), ts.Round(time.Millisecond), float64(ts)/float64(tp), traced.Round(time.Millisecond))
}

// neededBytes adds up the sizes of the regular files the traced run
// opened or executed, and of those the kernel loaded for it without an
// open in the trace (the #! interpreter of an executed script, the ELF
// interpreter of an executed program), each once, resolved in the image.
func neededBytes(b *testing.B, res *Result) int64 {
	root := elfdeps.NewRoot(filepath.Join(res.work, "root"))
	seen := map[string]bool{}
	var n int64
	var add func(p string, exec bool, depth int)
	add = func(p string, exec bool, depth int) {
		r, err := root.Resolve(p)
		if err != nil || !r.Info.Mode().IsRegular() || depth > 4 {
			return
		}
		if !seen[r.Path] {
			seen[r.Path] = true
			n += r.Info.Size()
		}
		if !exec {
			return
		}
		head, err := root.ReadFile(r.Path, 64<<20)
		if err != nil {
			b.Fatal(err)
		}
		if interp, _ := shebang(append(head, '\n')); len(head) > 2 && string(head[:2]) == "#!" {
			add(interp, true, depth+1)
			return
		}
		if info, err := elfdeps.Inspect(bytes.NewReader(head)); err == nil && info.Interp != "" {
			add(info.Interp, false, depth+1)
		}
	}
	for _, a := range res.Traced.Accesses {
		if !a.OK() || a.Resolved == "" {
			continue
		}
		switch a.Syscall {
		case "open", "openat", "openat2":
			add(a.Resolved, false, 0)
		case "execve", "execveat":
			add(a.Resolved, true, 0)
		}
	}
	return n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
