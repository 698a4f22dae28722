package sandbox

import (
	"bytes"
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/testenv"
	"golang.org/x/sys/unix"
)

func monoNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// BenchmarkStart measures, side by side for the same dynamically linked
// program, what the sandbox costs against a plain fork and exec on the host:
//
//	setup-ms     Start called → Process.Started (namespaces, mounts, exec)
//	main-lag-us  Process.Started (or, plain, the moment before exec.Cmd.Start)
//	             → the program's main: how early Started is; the sandbox's
//	             figure should be the dynamic loader's time, like the plain one
//	ns/op        a whole run: start, program runs and exits, everything reaped
func BenchmarkStart(b *testing.B) {
	testenv.RequireRoot(b)
	root := cRoot(b)
	_, cBin := fixtures(b)
	b.Run("sandbox", func(b *testing.B) {
		var setup, lag time.Duration
		for b.Loop() {
			var out bytes.Buffer
			t0 := time.Now()
			p, err := Start(context.Background(), Spec{Root: root, Argv: []string{"/usr/bin/cfn"}, Stdout: &out})
			if err != nil {
				b.Fatal(err)
			}
			startedMono := monoNow() - int64(time.Since(p.Started))
			if err := p.Wait(); err != nil {
				b.Fatal(err)
			}
			mainMono, ok := monoOf(out.String())
			if !ok {
				b.Fatalf("no report from the program: %q", out.String())
			}
			setup += p.Started.Sub(t0)
			lag += time.Duration(mainMono - startedMono)
		}
		b.ReportMetric(float64(setup.Milliseconds())/float64(b.N), "setup-ms")
		b.ReportMetric(float64(lag.Microseconds())/float64(b.N), "main-lag-us")
	})
	b.Run("plain", func(b *testing.B) {
		var lag time.Duration
		for b.Loop() {
			var out bytes.Buffer
			c := exec.Command(cBin)
			c.Stdout = &out
			before := monoNow()
			if err := c.Run(); err != nil {
				b.Fatal(err)
			}
			mainMono, ok := monoOf(out.String())
			if !ok {
				b.Fatalf("no report from the program: %q", out.String())
			}
			lag += time.Duration(mainMono - before)
		}
		b.ReportMetric(0, "setup-ms")
		b.ReportMetric(float64(lag.Microseconds())/float64(b.N), "main-lag-us")
	})
}
