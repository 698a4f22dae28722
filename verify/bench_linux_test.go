package verify

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/fnopt/fnopt/verify/stats"
)

// BenchmarkHarness measures verify's own overhead. For the same binary it
// takes, interleaved, a verify cold sample and a bare one: exec the binary
// and accept its connection until the first request's headers have
// arrived, with nothing else around it. The ratio of the init medians is
// the harness's cost relative to the least a measurement can do (target
// ≤ 1.15); samples/s is how many whole cold samples verify takes per
// second (start, init, one invocation, kill and reap).
//
//	go test -run '^$' -bench Harness -benchtime 300x ./verify/
func BenchmarkHarness(b *testing.B) {
	for _, bc := range []struct{ name, bin string }{
		{"minimal-c", testBins.minimal},
		{"go", testBins.lambdago},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tg, err := PrepareBootstrap(bc.bin, PrepareOptions{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var verifyInit, bareInit []float64
			var verifyTime time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				runs, err := Measure(ctx, []*Target{tg}, Options{Samples: 1})
				verifyTime += time.Since(t0)
				if err != nil || !runs[0].OK() {
					b.Fatalf("verify sample: %v %v", err, runs[0].Failure)
				}
				verifyInit = append(verifyInit, runs[0].Samples[0].InitMs)
				bareInit = append(bareInit, bareSample(b, bc.bin))
			}
			b.StopTimer()
			v, bare := stats.Summarize(verifyInit), stats.Summarize(bareInit)
			b.ReportMetric(v.P50, "verify-init-p50-ms")
			b.ReportMetric(bare.P50, "bare-init-p50-ms")
			b.ReportMetric(v.P50/bare.P50, "ratio")
			b.ReportMetric(float64(b.N)/verifyTime.Seconds(), "samples/s")
			b.ReportMetric(0, "ns/op") // the per-iteration time mixes both harnesses
		})
	}
}

// bareSample execs bin and returns the milliseconds until its first
// request's headers arrive: the least any measurement of init can take.
func bareSample(b *testing.B, bin string) float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String()}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	conn, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte("\r\n\r\n")) {
		n, err := conn.Read(buf)
		if err != nil {
			b.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	return float64(time.Since(start)) / float64(time.Millisecond)
}
