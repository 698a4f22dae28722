package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// cargoFile is a Cargo.toml. go-toml checks it and reads its values;
// edits are made on the text, beside the lines they concern.
type cargoFile struct {
	rel   string
	src   []byte
	lines lineIndex
	doc   map[string]any
}

func parseCargo(rel string, src []byte) (*cargoFile, error) {
	var doc map[string]any
	if err := toml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid TOML (%s): fix it, then run fnopt optimize again", rel, oneLine(err.Error()))
	}
	return &cargoFile{rel: rel, src: src, lines: newLineIndex(src), doc: doc}, nil
}

var (
	profileHeaderRE = regexp.MustCompile(`(?m)^[ \t]*\[[ \t]*profile\.release[ \t]*\][ \t]*(?:#.*)?$`)
	tableHeaderRE   = regexp.MustCompile(`(?m)^[ \t]*\[`)
	tomlKeyRE       = regexp.MustCompile(`(?m)^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*("[^"\n]*"|'[^'\n]*'|[^\s#]+)`)
)

// equivalent lists values Cargo treats the same as the tuned one.
var equivalent = map[string][]string{
	"lto":       {`"fat"`},
	"strip":     {`"symbols"`},
	"opt-level": {`"z"`}, // even smaller than "s": the user's stronger choice stands
}

// profileEdits returns the tuned [profile.release] keys that are missing or
// different, and the edits that set them.
func (c *cargoFile) profileEdits() ([]string, []Edit) {
	tuned := settings.RustProfile()
	nl := newline(c.src)
	loc := profileHeaderRE.FindIndex(c.src)
	if loc == nil {
		var b strings.Builder
		if len(c.src) > 0 && !strings.HasSuffix(string(c.src), "\n") {
			b.WriteString(nl)
		}
		b.WriteString(nl + "[profile.release]" + nl)
		var keys []string
		for _, k := range tuned {
			b.WriteString(k.Key + " = " + k.Value + nl)
			keys = append(keys, k.Key+" = "+k.Value)
		}
		return keys, []Edit{{File: c.rel, Line: len(c.lines), Start: len(c.src), End: len(c.src), New: b.String()}}
	}
	bodyStart := loc[1]
	if bodyStart < len(c.src) {
		bodyStart++ // past the header's newline
	}
	bodyEnd := len(c.src)
	if next := tableHeaderRE.FindIndex(c.src[bodyStart:]); next != nil {
		bodyEnd = bodyStart + next[0]
	}
	body := c.src[bodyStart:bodyEnd]
	present := map[string][]int{} // key -> value span (absolute)
	insertAt := bodyStart
	for _, m := range tomlKeyRE.FindAllSubmatchIndex(body, -1) {
		present[string(body[m[2]:m[3]])] = []int{bodyStart + m[4], bodyStart + m[5]}
		// After this key's line.
		end := bodyStart + m[1]
		for end < len(c.src) && c.src[end] != '\n' {
			end++
		}
		if end < len(c.src) {
			end++
		}
		insertAt = max(insertAt, end)
	}
	var keys []string
	var edits []Edit
	var add strings.Builder
	for _, k := range tuned {
		span, ok := present[k.Key]
		if !ok {
			add.WriteString(k.Key + " = " + k.Value + nl)
			keys = append(keys, k.Key+" = "+k.Value)
			continue
		}
		cur := string(c.src[span[0]:span[1]])
		if sameTOML(cur, k.Value) || anySame(cur, equivalent[k.Key]) {
			continue
		}
		keys = append(keys, fmt.Sprintf("%s = %s (was %s)", k.Key, k.Value, cur))
		edits = append(edits, Edit{File: c.rel, Line: c.lines.line(span[0]), Start: span[0], End: span[1], New: k.Value})
	}
	if add.Len() > 0 {
		text := add.String()
		if insertAt > 0 && insertAt == len(c.src) && c.src[insertAt-1] != '\n' {
			text = nl + text
		}
		edits = append(edits, Edit{File: c.rel, Line: c.lines.line(min(insertAt, len(c.src))), Start: insertAt, End: insertAt, New: text})
	}
	return keys, edits
}

// sameTOML compares two TOML literals by value ("s" and 's' are equal).
func sameTOML(a, b string) bool {
	var va, vb map[string]any
	if toml.Unmarshal([]byte("v = "+a), &va) != nil || toml.Unmarshal([]byte("v = "+b), &vb) != nil {
		return a == b
	}
	return fmt.Sprint(va["v"]) == fmt.Sprint(vb["v"])
}

func anySame(cur string, vals []string) bool {
	for _, v := range vals {
		if sameTOML(cur, v) {
			return true
		}
	}
	return false
}

func (c *cargoFile) profileEvidence() Evidence {
	if loc := profileHeaderRE.FindIndex(c.src); loc != nil {
		n := c.lines.line(loc[0])
		return Evidence{File: c.rel, Line: n, Text: strings.TrimSpace(lineText(c.src, n))}
	}
	return Evidence{File: c.rel, Text: "no [profile.release] section: cargo's defaults (opt-level 3, no LTO, 16 codegen units, unwinding, symbols kept)"}
}

// nativeDeps lists what links native code into the crate, which makes an
// architecture change need a cross C toolchain: -sys crates (direct, or in
// Cargo.lock), a `links` key, a build script linking a library.
func (c *cargoFile) nativeDeps(dir string) []string {
	var out []string
	seen := map[string]bool{}
	addDeps := func(t any) {
		m, _ := t.(map[string]any)
		for name := range m {
			if strings.HasSuffix(name, "-sys") && !seen[name] {
				seen[name] = true
				out = append(out, fmt.Sprintf("%s depends on %s (native library)", c.rel, name))
			}
		}
	}
	addDeps(c.doc["dependencies"])
	if targets, ok := c.doc["target"].(map[string]any); ok {
		for _, t := range targets {
			if tm, ok := t.(map[string]any); ok {
				addDeps(tm["dependencies"])
			}
		}
	}
	if pkg, ok := c.doc["package"].(map[string]any); ok {
		if l, ok := pkg["links"].(string); ok {
			out = append(out, fmt.Sprintf("%s links native library %q", c.rel, l))
		}
	}
	base := filepath.Join(dir, filepath.Dir(c.rel))
	if lock, err := os.ReadFile(filepath.Join(base, "Cargo.lock")); err == nil {
		for _, m := range regexp.MustCompile(`(?m)^name = "([A-Za-z0-9_-]+-sys)"`).FindAllSubmatch(lock, -1) {
			if n := string(m[1]); !seen[n] {
				seen[n] = true
				out = append(out, fmt.Sprintf("Cargo.lock has %s (native library)", n))
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(base, "build.rs")); err == nil && strings.Contains(string(b), "rustc-link-lib") {
		out = append(out, filepath.ToSlash(filepath.Join(filepath.Dir(c.rel), "build.rs"))+" links a native library")
	}
	sort.Strings(out)
	return out
}
