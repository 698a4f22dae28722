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

// BenchmarkContainment measures what a PID namespace of its own costs a
// host sample: the same binary started contained and not, interleaved
// (A B A B …, one Measure), reporting each one's init p50 and the ratio,
// and the whole sample's time (start to everything reaped) of each.
//
//	go test -run '^$' -bench Containment -benchtime 300x ./verify/
func BenchmarkContainment(b *testing.B) {
	for _, bc := range []struct{ name, bin string }{
		{"minimal-c", testBins.minimal},
		{"go", testBins.lambdago},
	} {
		b.Run(bc.name, func(b *testing.B) {
			contained, err := PrepareBootstrap(bc.bin, PrepareOptions{})
			if err != nil {
				b.Fatal(err)
			}
			plain, err := PrepareBootstrap(bc.bin, PrepareOptions{})
			if err != nil {
				b.Fatal(err)
			}
			plain.Starter.(*HostStarter).uncontained = true
			var whole [2]time.Duration
			last := time.Now()
			b.ResetTimer()
			runs, err := Measure(context.Background(), []*Target{contained, plain}, Options{Samples: b.N, Progress: func(done, _ int) {
				whole[(done-1)%2] += time.Since(last)
				last = time.Now()
			}})
			b.StopTimer()
			if err != nil || !runs[0].OK() || !runs[1].OK() {
				b.Fatalf("%v %v %v", err, runs[0].Failure, runs[1].Failure)
			}
			c, p := stats.Summarize(Values(runs[0].Samples, MetricInit)), stats.Summarize(Values(runs[1].Samples, MetricInit))
			b.ReportMetric(c.P50, "contained-init-p50-ms")
			b.ReportMetric(p.P50, "plain-init-p50-ms")
			b.ReportMetric(c.P50/p.P50, "ratio")
			b.ReportMetric(float64(whole[0].Microseconds())/float64(b.N)/1000, "contained-sample-ms")
			b.ReportMetric(float64(whole[1].Microseconds())/float64(b.N)/1000, "plain-sample-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
