package project

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// FileChange is the new content of one file.
type FileChange struct {
	File string
	Old  []byte
	New  []byte
}

// Changes returns the new content of every file the applicable findings
// edit, sorted by file name. It fails when two edits overlap.
func (p *Plan) Changes() ([]FileChange, error) {
	byFile := map[string][]Edit{}
	for _, f := range p.Findings {
		if !f.Applicable() {
			continue
		}
		for _, e := range f.Edits {
			byFile[e.File] = append(byFile[e.File], e)
		}
	}
	var out []FileChange
	for file, edits := range byFile {
		old, ok := p.originals[file]
		if !ok {
			return nil, fmt.Errorf("planning %s: its content was not read", file)
		}
		nw, err := applyEdits(old, edits)
		if err != nil {
			return nil, fmt.Errorf("planning %s: %w", file, err)
		}
		if !bytes.Equal(old, nw) {
			out = append(out, FileChange{File: file, Old: old, New: nw})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out, nil
}

// Diff returns the changes as a unified diff (a/ and b/ prefixes, three
// lines of context), empty when there is nothing to change.
func (p *Plan) Diff() (string, error) {
	changes, err := p.Changes()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(UnifiedDiff("a/"+c.File, "b/"+c.File, c.Old, c.New, 3))
	}
	return b.String(), nil
}

// Applicable returns the findings --apply would fix.
func (p *Plan) Applicable() []Finding {
	var out []Finding
	for _, f := range p.Findings {
		if f.Applicable() {
			out = append(out, f)
		}
	}
	return out
}
