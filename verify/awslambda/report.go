package awslambda

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
)

// Report is one REPORT line of Lambda's log: what Lambda measured of one
// invocation. Its documented text form is tab-separated "Key: value unit"
// fields after "REPORT RequestId: ID", for example
//
//	REPORT RequestId: 3f1c…	Duration: 1.52 ms	Billed Duration: 12 ms	Memory Size: 128 MB	Max Memory Used: 18 MB	Init Duration: 9.83 ms
//
// Init Duration appears only for an invocation that ran in a new
// execution environment; SnapStart functions report Restore Duration and
// Billed Restore Duration there instead.
type Report struct {
	RequestID        string
	DurationMs       float64
	BilledDurationMs float64
	MemorySizeMB     int
	MaxMemoryUsedMB  int
	// InitMs is Init Duration; HasInit says the line had one.
	InitMs  float64
	HasInit bool
	// RestoreMs is SnapStart's Restore Duration; HasRestore says the line
	// had one. BilledRestoreMs is what of it is billed.
	RestoreMs       float64
	BilledRestoreMs float64
	HasRestore      bool
	// Status is "" for an invocation that ran to its end, else Lambda's
	// word for how it ended ("error", "timeout"); ErrorType goes with it.
	Status    string
	ErrorType string
}

// Cold reports whether the invocation ran in a new execution environment:
// its line has an Init Duration, or for SnapStart a Restore Duration. A
// line with neither is a warm invocation and never a cold sample.
func (r Report) Cold() bool { return r.HasInit || r.HasRestore }

// StartMs is the time Lambda spent getting the environment ready before
// the handler ran: Init Duration, or Restore Duration for SnapStart (AWS
// documents a SnapStart cold start as Restore Duration + Duration).
func (r Report) StartMs() float64 {
	if r.HasInit {
		return r.InitMs
	}
	return r.RestoreMs
}

// ParseReport parses one REPORT line. Fields it does not know (XRAY
// TraceId, SegmentId and whatever Lambda adds later) are skipped, so that
// a new field never breaks a run.
func ParseReport(line string) (Report, error) {
	var r Report
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "REPORT ") {
		return r, fmt.Errorf("not a REPORT line: %q", line)
	}
	seen := false
	for _, field := range strings.Split(strings.TrimPrefix(line, "REPORT "), "\t") {
		key, value, ok := strings.Cut(strings.TrimSpace(field), ": ")
		if !ok {
			continue
		}
		var err error
		switch key {
		case "RequestId":
			r.RequestID = value
		case "Duration":
			r.DurationMs, err = quantity(value, "ms")
			seen = err == nil
		case "Billed Duration":
			r.BilledDurationMs, err = quantity(value, "ms")
		case "Memory Size":
			r.MemorySizeMB, err = megabytes(value)
		case "Max Memory Used":
			r.MaxMemoryUsedMB, err = megabytes(value)
		case "Init Duration":
			r.InitMs, err = quantity(value, "ms")
			r.HasInit = err == nil
		case "Restore Duration":
			r.RestoreMs, err = quantity(value, "ms")
			r.HasRestore = err == nil
		case "Billed Restore Duration":
			r.BilledRestoreMs, err = quantity(value, "ms")
		case "Status":
			r.Status = value
		case "Error Type":
			r.ErrorType = value
		}
		if err != nil {
			return r, fmt.Errorf("REPORT field %q: %w", field, err)
		}
	}
	if r.RequestID == "" || !seen {
		return r, fmt.Errorf("REPORT line without RequestId or Duration: %q", line)
	}
	return r, nil
}

// quantity parses "12.34 ms" (a number and the expected unit).
func quantity(s, unit string) (float64, error) {
	num, u, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok || u != unit {
		return 0, fmt.Errorf("want a number of %s", unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a number of %s", unit)
	}
	return v, nil
}

func megabytes(s string) (int, error) {
	v, err := quantity(s, "MB")
	return int(v), err
}

// Log is what the log tail of one invocation says (LogType=Tail gives the
// last 4 KB of it, base64-encoded, in X-Amz-Log-Result).
type Log struct {
	// Report is the invocation's REPORT line; HasReport is false when
	// the tail has none (cut off, or a log format fnopt does not read).
	Report    Report
	HasReport bool
	// InitFailed says an INIT_REPORT line reports an init phase that
	// ended in error or timeout: the function failed before its handler.
	InitFailed bool
	// Text is the tail as Lambda sent it.
	Text string
}

// ParseLog reads a log tail: the last REPORT line in it, and whether an
// INIT_REPORT says init failed. A malformed REPORT line is an error.
func ParseLog(text string) (Log, error) {
	l := Log{Text: text}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "REPORT "):
			r, err := ParseReport(line)
			if err != nil {
				return l, err
			}
			l.Report, l.HasReport = r, true
		case strings.HasPrefix(line, "INIT_REPORT "):
			if strings.Contains(line, "Status: error") || strings.Contains(line, "Status: timeout") {
				l.InitFailed = true
			}
		}
	}
	return l, sc.Err()
}
