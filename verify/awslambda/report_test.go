package awslambda

import (
	"math"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
)

func TestParseReport(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Report
		cold bool
	}{
		{
			name: "cold start of a custom runtime",
			line: "REPORT RequestId: 3f1c2e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6\tDuration: 1.52 ms\tBilled Duration: 12 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\tInit Duration: 9.83 ms\t",
			want: Report{RequestID: "3f1c2e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6", DurationMs: 1.52, BilledDurationMs: 12, MemorySizeMB: 128, MaxMemoryUsedMB: 18, InitMs: 9.83, HasInit: true},
			cold: true,
		},
		{
			name: "warm invocation: no Init Duration",
			line: "REPORT RequestId: 8f507cfc-0000-4697-b07a-ac58fc914c95\tDuration: 0.98 ms\tBilled Duration: 1 ms\tMemory Size: 512 MB\tMax Memory Used: 19 MB\t",
			want: Report{RequestID: "8f507cfc-0000-4697-b07a-ac58fc914c95", DurationMs: 0.98, BilledDurationMs: 1, MemorySizeMB: 512, MaxMemoryUsedMB: 19},
		},
		{
			name: "SnapStart restore: Restore Duration, no Init Duration",
			line: "REPORT RequestId: 7e3a9d2b-1111-4c4c-9a9a-0123456789ab\tDuration: 21.46 ms\tBilled Duration: 523 ms\tMemory Size: 1024 MB\tMax Memory Used: 131 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 501 ms\t",
			want: Report{RequestID: "7e3a9d2b-1111-4c4c-9a9a-0123456789ab", DurationMs: 21.46, BilledDurationMs: 523, MemorySizeMB: 1024, MaxMemoryUsedMB: 131, RestoreMs: 474.16, BilledRestoreMs: 501, HasRestore: true},
			cold: true,
		},
		{
			name: "with X-Ray fields after the figures",
			line: "REPORT RequestId: 0b1d-22\tDuration: 2.00 ms\tBilled Duration: 15 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 12.40 ms\t\nXRAY TraceId: 1-5e1b4151-43a0913a12345678901234 \tSegmentId: 6f6fe6ee7aef1aa3\tSampled: true\t",
			want: Report{RequestID: "0b1d-22", DurationMs: 2, BilledDurationMs: 15, MemorySizeMB: 128, MaxMemoryUsedMB: 20, InitMs: 12.4, HasInit: true},
			cold: true,
		},
		{
			name: "a failed invocation",
			line: "REPORT RequestId: 55aa\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\tStatus: timeout",
			want: Report{RequestID: "55aa", DurationMs: 3000, BilledDurationMs: 3000, MemorySizeMB: 128, MaxMemoryUsedMB: 30, Status: "timeout"},
		},
		{
			name: "init failure",
			line: "REPORT RequestId: 66bb\tDuration: 4.10 ms\tBilled Duration: 5 ms\tMemory Size: 128 MB\tMax Memory Used: 12 MB\tStatus: error\tError Type: Runtime.ExitError",
			want: Report{RequestID: "66bb", DurationMs: 4.1, BilledDurationMs: 5, MemorySizeMB: 128, MaxMemoryUsedMB: 12, Status: "error", ErrorType: "Runtime.ExitError"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ParseLog("START RequestId: x Version: $LATEST\nhello from the function\nEND RequestId: x\n" + tt.line + "\n")
			if err != nil {
				t.Fatal(err)
			}
			if !l.HasReport || l.Report != tt.want {
				t.Errorf("got %+v (found %v)\nwant %+v", l.Report, l.HasReport, tt.want)
			}
			if l.Report.Cold() != tt.cold {
				t.Errorf("Cold() = %v, want %v", l.Report.Cold(), tt.cold)
			}
		})
	}
}

func TestParseReportRefuses(t *testing.T) {
	for _, line := range []string{
		"REPORT RequestId: a\tDuration: fast\tBilled Duration: 1 ms",
		"REPORT RequestId: a\tDuration: 1.0 s",
		"REPORT Duration: 1.00 ms",
		"START RequestId: a",
	} {
		if _, err := ParseReport(line); err == nil {
			t.Errorf("ParseReport(%q) succeeded", line)
		}
	}
}

func TestParseLogInitFailure(t *testing.T) {
	l, err := ParseLog("INIT_REPORT Init Duration: 2.51 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError\nSTART RequestId: b Version: $LATEST\nEND RequestId: b\n")
	if err != nil {
		t.Fatal(err)
	}
	if !l.InitFailed || l.HasReport {
		t.Errorf("InitFailed %v HasReport %v, want true false", l.InitFailed, l.HasReport)
	}
}

func TestStartMs(t *testing.T) {
	if got := (Report{InitMs: 9, HasInit: true, RestoreMs: 400}).StartMs(); got != 9 {
		t.Errorf("init: %v", got)
	}
	if got := (Report{RestoreMs: 400, HasRestore: true}).StartMs(); got != 400 {
		t.Errorf("restore: %v", got)
	}
}

func TestPrice(t *testing.T) {
	tests := []struct {
		arch     settings.Arch
		memoryMB int
		billedMs float64
		want     float64
	}{
		// 128 MB for 100 ms is 0.0125 GB-s.
		{settings.ARM64, 128, 100, 0.20/1e6 + 0.0125*0.0000133334},
		{settings.X86_64, 128, 100, 0.20/1e6 + 0.0125*0.0000166667},
		// Billed in whole milliseconds, rounded up.
		{settings.ARM64, 1024, 0.2, 0.20/1e6 + 0.001*0.0000133334},
	}
	for _, tt := range tests {
		if got := PriceOf(tt.arch).Invocation(tt.memoryMB, tt.billedMs); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("%s %d MB %v ms: %g, want %g", tt.arch, tt.memoryMB, tt.billedMs, got, tt.want)
		}
	}
}
