package project

import (
	"fmt"
	"sort"
)

// Finding is one thing that makes the function larger or slower to start
// than it needs to be, with the proof and the fix.
type Finding struct {
	// ID names the kind of finding, stable across versions (go1x-runtime,
	// go-ldflags, ...); scripts and the JSON plan use it.
	ID string `json:"id"`
	// Title is a one-line summary.
	Title string `json:"title"`
	// Evidence points at the lines that show the problem.
	Evidence []Evidence `json:"evidence"`
	// Why says why it matters for size or cold start.
	Why string `json:"why"`
	// Effect is what fixing it is expected to bring.
	Effect string `json:"effect"`
	// Blocked, when set, says what stops the change (cgo, native
	// dependencies); nothing is edited.
	Blocked string `json:"blocked,omitempty"`
	// Manual, when set, says what to do by hand: fnopt could not make the
	// change safely in these files. Nothing is edited.
	Manual string `json:"manual,omitempty"`
	// Status is "apply" (--apply makes the edits), "blocked" or "by-hand".
	Status string `json:"status"`
	// Edits are the changes that fix it; empty when Blocked or Manual.
	Edits []Edit `json:"edits,omitempty"`

	rank int // lower is more valuable
}

// Evidence is a line of a file.
type Evidence struct {
	File string `json:"file"` // relative to the project folder
	Line int    `json:"line"` // 1-based; 0 when the whole file is the evidence
	Text string `json:"text"` // the line, or a description
}

func (e Evidence) String() string {
	if e.Line == 0 {
		return e.File
	}
	return fmt.Sprintf("%s:%d", e.File, e.Line)
}

// Edit replaces the bytes [Start,End) of File's original content with
// New. An insertion has Start == End.
type Edit struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	New   string `json:"new"`

	seq int // order among insertions at the same offset
}

// Applicable reports whether the finding has edits fnopt will make.
func (f *Finding) Applicable() bool { return f.Blocked == "" && f.Manual == "" && len(f.Edits) > 0 }

// Ranks order findings from most to least valuable. Retired runtimes come
// first (the function cannot even be updated), then what costs the most
// cold-start time or bytes.
const (
	rankGo1x = iota
	rankUPX
	rankDebugBuild
	rankLdflags
	rankNoRPC
	rankRustProfile
	rankRustStatic
	rankArm64
	rankAL2
	rankCgo
	rankTrimpath
	rankShippedDebug
)

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].rank < fs[j].rank })
	for i := range fs {
		switch f := &fs[i]; {
		case f.Blocked != "":
			f.Status, f.Edits = "blocked", nil
		case f.Manual != "" || len(f.Edits) == 0:
			f.Status, f.Edits = "by-hand", nil
		default:
			f.Status = "apply"
		}
	}
}

// applyEdits returns src with edits made. Edits must not overlap;
// insertions at one offset keep their seq order.
func applyEdits(src []byte, edits []Edit) ([]byte, error) {
	es := append([]Edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Start != es[j].Start {
			return es[i].Start < es[j].Start
		}
		// At one offset, insertions come before a replacement starting
		// there, so both apply.
		if ins := es[i].Start == es[i].End; ins != (es[j].Start == es[j].End) {
			return ins
		}
		return es[i].seq < es[j].seq
	})
	var out []byte
	pos := 0
	for _, e := range es {
		if e.Start < pos || e.End < e.Start || e.End > len(src) {
			return nil, fmt.Errorf("edits of %s overlap at byte %d", e.File, e.Start)
		}
		out = append(out, src[pos:e.Start]...)
		out = append(out, e.New...)
		pos = e.End
	}
	return append(out, src[pos:]...), nil
}
