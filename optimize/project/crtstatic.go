package project

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// crtStaticFeature is the rustc target feature that links the C runtime,
// glibc on a *-linux-gnu target, into the binary
// (settings.RustStaticRustflags).
const crtStaticFeature = "+crt-static"

// crtStaticArgs reports whether rustc arguments turn on crt-static: "-C"
// "target-feature=…", or "-Ctarget-feature=…", with +crt-static among its
// comma-separated features. "-crt-static" turns it off and is not matched.
func crtStaticArgs(args []string) bool {
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "-C")
		if !ok {
			continue
		}
		if v == "" && i+1 < len(args) {
			v = args[i+1]
		}
		if feats, ok := strings.CutPrefix(v, "target-feature="); ok && hasFeature(feats) {
			return true
		}
	}
	return false
}

func hasFeature(list string) bool {
	_, had := withoutCrtStatic(list)
	return had
}

// withoutCrtStatic returns a comma-separated feature list without
// +crt-static, and whether it held it.
func withoutCrtStatic(list string) (kept []string, had bool) {
	for _, f := range strings.Split(list, ",") {
		if f == crtStaticFeature {
			had = true
		} else {
			kept = append(kept, f)
		}
	}
	return kept, had
}

// crtStaticFlagRE finds -C target-feature=… in the raw text of a value,
// with or without the blank after -C.
var crtStaticFlagRE = regexp.MustCompile(`-C[ \t]*target-feature=([A-Za-z0-9_.+,-]*)`)

// cut replaces raw[start:end] with repl.
type cut struct {
	start, end int
	repl       string
}

// crtStaticCuts returns the cuts that take +crt-static out of the raw text
// of a space-separated rustc flags value (quotes included, as written in
// the file): the whole flag with one run of blanks beside it, or only the
// feature when the flag lists others too. None when the flag is not
// written there literally (it comes through a variable, say).
func crtStaticCuts(raw string) []cut {
	var out []cut
	blank := func(c byte) bool { return c == ' ' || c == '\t' }
	bound := func(c byte) bool { return blank(c) || c == '"' || c == '\'' || c == '\n' }
	prevEnd := 0
	for _, m := range crtStaticFlagRE.FindAllStringSubmatchIndex(raw, -1) {
		if m[0] > 0 && !bound(raw[m[0]-1]) || m[1] < len(raw) && !bound(raw[m[1]]) {
			continue // part of a longer word: not a flag of its own
		}
		kept, had := withoutCrtStatic(raw[m[2]:m[3]])
		switch {
		case !had:
			continue
		case len(kept) > 0:
			out = append(out, cut{m[2], m[3], strings.Join(kept, ",")})
			prevEnd = m[3]
		default:
			start, end := m[0], m[1]
			if end < len(raw) && blank(raw[end]) {
				for end < len(raw) && blank(raw[end]) {
					end++
				}
			} else {
				for start > prevEnd && blank(raw[start-1]) {
					start--
				}
			}
			out = append(out, cut{start, end, ""})
			prevEnd = end
		}
	}
	return out
}

// rustflagsVarRE names the environment variables cargo reads rustc flags
// from for a build (CARGO_ENCODED_RUSTFLAGS, separated by 0x1f, is not
// read here).
var rustflagsVarRE = regexp.MustCompile(`^(?:RUSTFLAGS|CARGO_BUILD_RUSTFLAGS|CARGO_TARGET_[A-Z0-9_]+_RUSTFLAGS)$`)

func rustflagsVar(name string) bool {
	// A musl target links its C library statically anyway: not glibc.
	return rustflagsVarRE.MatchString(name) && !strings.Contains(name, "_MUSL")
}

// crtStatic collects where the build files turn on crt-static, with the
// edits that take it out, or what to do by hand where fnopt cannot.
type crtStatic struct {
	ev     []Evidence
	edits  []Edit
	manual []string
}

// textSites finds crt-static in a text build file's rustc flags: a
// RUSTFLAGS=… prefix of a cargo build, RUSTFLAGS (or CARGO_BUILD_RUSTFLAGS,
// CARGO_TARGET_<TRIPLE>_RUSTFLAGS) defined or exported in the file, and
// the variables those values refer to (RUSTFLAGS="$(TUNED_RUSTFLAGS)" in
// the Makefile of `fnopt new --link static`).
func (s *crtStatic) textSites(f *textFile) {
	var done [][2]int // spans already looked at
	seen := func(start, end int) bool {
		for _, d := range done {
			if start < d[1] && d[0] < end {
				return true
			}
		}
		done = append(done, [2]int{start, end})
		return false
	}
	// site checks the value written at src[start:end] (a definition's
	// value when def), whose meaning is val, seen from the line at at.
	var site func(start, end int, val string, def bool, at int)
	site = func(start, end int, val string, def bool, at int) {
		if !f.crtStaticValue(val) || seen(start, end) {
			return
		}
		ev := f.evidence(at)
		s.ev = append(s.ev, ev)
		raw := string(f.src[start:end])
		cuts := crtStaticCuts(raw)
		for _, c := range cuts {
			a, b := start+c.start, start+c.end
			if def && c.start == 0 && c.end == len(raw) {
				// Nothing left: no blank after the = either.
				for a > 0 && (f.src[a-1] == ' ' || f.src[a-1] == '\t') {
					a--
				}
			}
			s.edits = append(s.edits, Edit{File: f.rel, Line: f.lines.line(a), Start: a, End: b, New: c.repl})
		}
		// The variables the value refers to may bring the flag too.
		followed := false
		for _, m := range refRE.FindAllStringSubmatch(raw, -1) {
			name := m[1] + m[2] + m[3]
			d, ok := f.vars[name]
			if !ok || f.ambiguous[name] != nil || !crtStaticArgs(strings.Fields(f.expand(d.val))) {
				continue
			}
			followed = true
			site(d.start, d.end, d.val, true, d.start)
		}
		if len(cuts) == 0 && !followed {
			s.manual = append(s.manual, fmt.Sprintf("take -C target-feature=%s out of the rustc flags at %s (they are built from variables fnopt cannot edit safely)", crtStaticFeature, ev))
		}
	}
	for _, c := range f.cargoBuilds() {
		for _, w := range c.words[:c.buildIdx] {
			if name, v, ok := isAssignment(w.val); ok && rustflagsVar(name) {
				site(w.start+len(name)+1, w.end, v, false, c.words[0].start)
			}
		}
		// Flags on the command itself (cargo build --config
		// 'build.rustflags=[…]'): quoting varies too much to edit.
		for _, w := range c.words[c.buildIdx+1:] {
			if v := f.expand(w.val); strings.Contains(v, "target-feature") && strings.Contains(v, crtStaticFeature) {
				ev := f.evidence(c.words[0].start)
				s.ev = append(s.ev, ev)
				s.manual = append(s.manual, fmt.Sprintf("take target-feature=%s out of the cargo command at %s", crtStaticFeature, ev))
				break
			}
		}
	}
	for _, defs := range []map[string]def{f.vars, f.env} {
		names := make([]string, 0, len(defs))
		for name := range defs {
			if rustflagsVar(name) {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, name := range names {
			d := defs[name]
			site(d.start, d.end, d.val, true, d.start)
		}
	}
}

// crtStaticValue reports whether a rustc flags value of the file turns
// on crt-static, expanded with the file's variables. A variable defined
// more than once (ifeq branches) is not expanded, so it counts when any
// of its definitions has the flag: make may choose that one.
func (f *textFile) crtStaticValue(val string) bool {
	if crtStaticArgs(strings.Fields(f.expand(val))) {
		return true
	}
	for _, m := range refRE.FindAllStringSubmatch(val, -1) {
		for _, d := range f.ambiguous[m[1]+m[2]+m[3]] {
			if crtStaticArgs(strings.Fields(f.expand(d.val))) {
				return true
			}
		}
	}
	return false
}

// cargoConfig is a .cargo/config.toml (or .cargo/config) at the project
// root, where cargo reads [build] and [target.<triple>] rustflags from.
// It is read as a Cargo.toml is (cargoFile: go-toml checks it and reads
// its values), with methods of its own; the edits are made on the text,
// at the positions go-toml's parser gives for the array's strings.
type cargoConfig cargoFile

func parseCargoConfig(rel string, src []byte) (*cargoConfig, error) {
	c, err := parseCargo(rel, src)
	return (*cargoConfig)(c), err
}

// staticKeys returns the dotted paths of the rustflags values that turn
// on crt-static: build.rustflags and target.<triple or cfg>.rustflags,
// except musl targets (their C library is static anyway).
func (c *cargoConfig) staticKeys() []string {
	var out []string
	if b, ok := c.doc["build"].(map[string]any); ok && rustflagsValue(b["rustflags"]) {
		out = append(out, "build\x00rustflags")
	}
	if ts, ok := c.doc["target"].(map[string]any); ok {
		for triple, t := range ts {
			if tm, ok := t.(map[string]any); ok && !strings.Contains(triple, "musl") && rustflagsValue(tm["rustflags"]) {
				out = append(out, "target\x00"+triple+"\x00rustflags")
			}
		}
	}
	sort.Strings(out)
	return out
}

// rustflagsValue reports whether a rustflags value (an array of strings,
// or one string of space-separated flags) turns on crt-static.
func rustflagsValue(v any) bool {
	switch v := v.(type) {
	case string:
		return crtStaticArgs(strings.Fields(v))
	case []any:
		var args []string
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return false
			}
			args = append(args, s)
		}
		return crtStaticArgs(args)
	}
	return false
}

// crtStatic adds the file's crt-static rustflags to s: the edits that
// remove them, checked by parsing the edited file again, or what to do by
// hand when a value cannot be located or edited safely (an inline table,
// a string with escapes).
func (c *cargoConfig) crtStatic(s *crtStatic) {
	keys := c.staticKeys()
	if len(keys) == 0 {
		return
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	located := map[string][]Edit{}
	lines := map[string]int{}
	p := &unstable.Parser{}
	p.Reset(c.src)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
		case unstable.KeyValue:
			path := strings.Join(append(append([]string(nil), table...), keyParts(e.Key())...), "\x00")
			if !want[path] {
				continue
			}
			k := e.Key()
			k.Next()
			lines[path] = c.lines.line(int(k.Node().Raw.Offset))
			if edits, ok := c.valueEdits(e.Value()); ok {
				located[path] = edits
			}
		}
	}
	for _, k := range keys {
		name := strings.ReplaceAll(k, "\x00", ".")
		ev := Evidence{File: c.rel, Line: lines[k], Text: name + " has -C target-feature=" + crtStaticFeature}
		if ev.Line > 0 {
			ev.Text = strings.TrimSpace(lineText(c.src, ev.Line))
		}
		s.ev = append(s.ev, ev)
		edits, ok := located[k]
		if ok {
			ok = c.checkEdits(k, edits)
		}
		if !ok {
			s.manual = append(s.manual, fmt.Sprintf(`take "-C", "target-feature=%s" out of %s in %s`, crtStaticFeature, name, c.rel))
			continue
		}
		s.edits = append(s.edits, edits...)
	}
}

func keyParts(it unstable.Iterator) []string {
	var out []string
	for it.Next() {
		out = append(out, string(it.Node().Data))
	}
	return out
}

// valueEdits returns the edits that take crt-static out of a rustflags
// value: whole elements of an array ("-C", "target-feature=+crt-static",
// or "-Ctarget-feature=+crt-static"), the feature alone from a list of
// several, or the flag from a string of space-separated flags.
func (c *cargoConfig) valueEdits(v *unstable.Node) ([]Edit, bool) {
	span := func(n *unstable.Node) (int, int) {
		return int(n.Raw.Offset), int(n.Raw.Offset + n.Raw.Length)
	}
	switch v.Kind {
	case unstable.String:
		s, e := span(v)
		var out []Edit
		for _, ct := range crtStaticCuts(string(c.src[s:e])) {
			out = append(out, Edit{File: c.rel, Line: c.lines.line(s + ct.start), Start: s + ct.start, End: s + ct.end, New: ct.repl})
		}
		return out, len(out) > 0
	case unstable.Array:
	default:
		return nil, false
	}
	var elems []*unstable.Node
	it := v.Children()
	for it.Next() {
		if it.Node().Kind != unstable.String {
			return nil, false
		}
		elems = append(elems, it.Node())
	}
	drop := make([]bool, len(elems))
	var out []Edit
	for i, n := range elems {
		val := string(n.Data)
		feats, joined := strings.CutPrefix(val, "-Ctarget-feature=")
		first := i
		if !joined {
			var ok bool
			if feats, ok = strings.CutPrefix(val, "target-feature="); !ok || i == 0 || string(elems[i-1].Data) != "-C" {
				continue
			}
			first = i - 1
		}
		kept, had := withoutCrtStatic(feats)
		if !had {
			continue
		}
		if len(kept) == 0 {
			for j := first; j <= i; j++ {
				drop[j] = true
			}
			continue
		}
		// Other features too: take out +crt-static only, rewriting the
		// string in its own quotes (when it has no escapes to keep).
		s, e := span(n)
		raw := string(c.src[s:e])
		if len(raw) < 2 || raw[1:len(raw)-1] != val {
			return nil, false
		}
		repl := raw[:1] + strings.TrimSuffix(val, feats) + strings.Join(kept, ",") + raw[:1]
		out = append(out, Edit{File: c.rel, Line: c.lines.line(s), Start: s, End: e, New: repl})
	}
	// Each run of dropped elements goes with the separator after it (or,
	// at the end of the array, the one before it), so the array stays
	// valid TOML with the other elements as written.
	for i := 0; i < len(elems); i++ {
		if !drop[i] {
			continue
		}
		j := i
		for j+1 < len(elems) && drop[j+1] {
			j++
		}
		var a, b int
		switch {
		case j+1 < len(elems):
			a, _ = span(elems[i])
			b, _ = span(elems[j+1])
		case i > 0:
			_, a = span(elems[i-1])
			_, b = span(elems[j])
		default:
			a, _ = span(elems[i])
			_, b = span(elems[j])
			for k := b; k < len(c.src); k++ {
				if ch := c.src[k]; ch == ',' {
					b = k + 1
					break
				} else if ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' {
					break
				}
			}
		}
		out = append(out, Edit{File: c.rel, Line: c.lines.line(a), Start: a, End: b})
		i = j
	}
	return out, len(out) > 0
}

// checkEdits applies edits to the file and parses it again: it must still
// be valid TOML whose value at key no longer turns on crt-static.
func (c *cargoConfig) checkEdits(key string, edits []Edit) bool {
	out, err := applyEdits(c.src, edits)
	if err != nil {
		return false
	}
	var doc map[string]any
	if toml.Unmarshal(out, &doc) != nil {
		return false
	}
	var v any = doc
	for _, part := range strings.Split(key, "\x00") {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		v = m[part]
	}
	return v != nil && !rustflagsValue(v)
}
