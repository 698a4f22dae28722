package project

import (
	"path"
	"regexp"
	"strings"
)

// textFile is a build file edited as text: a Makefile, a shell script or
// a Dockerfile. Its build commands are found by tokenising it like a
// shell would; edits land at the byte positions of those words.
type textFile struct {
	rel   string
	kind  fileKind
	src   []byte
	lines lineIndex
	cmds  []command
	vars  map[string]def // variables defined in the file (NAME = value)
	env   map[string]def // variables exported to commands (export, ENV)
	// ambiguous variables are defined more than once: never expanded.
	// Each has its definitions, in the file's order.
	ambiguous map[string][]def
}

// def is a variable definition with the span of its value.
type def struct {
	val        string
	start, end int
	line       int
}

var (
	// NAME = value, NAME := value, NAME ?= value (Makefile), NAME=value (shell).
	varDefRE = regexp.MustCompile(`(?m)^(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::=|\?=|\+=|=)[ \t]*([^\n#]*?)[ \t]*$`)
	// export NAME=value (Makefile, shell), ENV NAME=value ... or ENV NAME
	// value, ARG NAME=value (Dockerfile).
	envLineRE = regexp.MustCompile(`(?m)^[ \t]*(?:export|ENV|ARG)[ \t]+(.*)$`)
	// export NAME := value, export NAME ?= value (Makefile).
	makeExportRE = regexp.MustCompile(`(?m)^[ \t]*export[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::=|\?=)[ \t]*([^\s#]*)`)
)

func newTextFile(rel string, kind fileKind, src []byte) *textFile {
	f := &textFile{rel: rel, kind: kind, src: src, lines: newLineIndex(src),
		cmds: commands(src, kind), vars: map[string]def{}, env: map[string]def{}, ambiguous: map[string][]def{}}
	for _, m := range varDefRE.FindAllSubmatchIndex(src, -1) {
		if m[0] < len(src) && src[m[0]] == '\t' {
			continue // a recipe line, not a definition
		}
		name := string(src[m[2]:m[3]])
		d := def{val: trimQuotes(string(src[m[4]:m[5]])), start: m[4], end: m[5], line: f.lines.line(m[0])}
		if prev, twice := f.vars[name]; twice {
			// Defined in several places (ifeq branches, overrides): its
			// value is not known without running make.
			if len(f.ambiguous[name]) == 0 {
				f.ambiguous[name] = []def{prev}
			}
			f.ambiguous[name] = append(f.ambiguous[name], d)
		}
		f.vars[name] = d
	}
	for _, m := range envLineRE.FindAllSubmatchIndex(src, -1) {
		words := tokenize(src, m[2], m[3])
		line := f.lines.line(m[0])
		if len(words) == 2 && !strings.Contains(words[0].val, "=") {
			// ENV NAME value (the old Dockerfile form).
			f.env[words[0].val] = def{val: words[1].val, start: words[1].start, end: words[1].end, line: line}
			continue
		}
		for _, w := range words {
			if name, v, ok := isAssignment(w.val); ok {
				f.env[name] = def{val: v, start: w.start + len(name) + 1, end: w.end, line: line}
			}
		}
	}
	for _, m := range makeExportRE.FindAllSubmatchIndex(src, -1) {
		f.env[string(src[m[2]:m[3]])] = def{val: string(src[m[4]:m[5]]), start: m[4], end: m[5], line: f.lines.line(m[0])}
	}
	return f
}

func trimQuotes(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

var refRE = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand replaces references to variables defined in the file with their
// values, so that `-ldflags "$(LDFLAGS)"` is checked for what it holds.
func (f *textFile) expand(s string) string {
	for i := 0; i < 4 && strings.Contains(s, "$"); i++ {
		s = refRE.ReplaceAllStringFunc(s, func(m string) string {
			sub := refRE.FindStringSubmatch(m)
			name := sub[1] + sub[2] + sub[3]
			if d, ok := f.vars[name]; ok && f.ambiguous[name] == nil {
				return d.val
			}
			return m
		})
	}
	return s
}

// refName returns NAME when s is exactly one variable reference.
func refName(s string) string {
	m := refRE.FindStringSubmatch(s)
	if m == nil || m[0] != s {
		return ""
	}
	return m[1] + m[2] + m[3]
}

func (f *textFile) raw(w word) string { return string(f.src[w.start:w.end]) }

func (f *textFile) evidence(off int) Evidence {
	n := f.lines.line(off)
	return Evidence{File: f.rel, Line: n, Text: strings.TrimSpace(lineText(f.src, n))}
}

// goBuildCmd is a `go build` command found in a text file.
type goBuildCmd struct {
	f      *textFile
	words  []word
	goIdx  int            // index of "go"; "build" follows
	prefix map[string]int // NAME=value words before "go"
	flags  map[string]flagUse
	args   []int // package arguments
}

// flagUse is one flag of a command; for -flag=value valIdx == nameIdx.
type flagUse struct {
	nameIdx, valIdx int
	val             string
}

// goValueFlags are the go build flags that take a value.
var goValueFlags = map[string]bool{"-o": true, "-tags": true, "-ldflags": true, "-gcflags": true,
	"-asmflags": true, "-mod": true, "-modfile": true, "-p": true, "-pkgdir": true, "-buildmode": true,
	"-compiler": true, "-gccgoflags": true, "-installsuffix": true, "-overlay": true, "-pgo": true,
	"-toolexec": true, "-C": true, "-buildvcs": true, "-covermode": true, "-coverpkg": true}

func (f *textFile) goBuilds() []*goBuildCmd {
	var out []*goBuildCmd
	for _, c := range f.cmds {
		i := 0
		prefix := map[string]int{}
		for ; i < len(c.words); i++ {
			v := c.words[i].val
			if name, _, ok := isAssignment(v); ok {
				prefix[name] = i
				continue
			}
			if v == "env" || v == "exec" || v == "time" {
				continue
			}
			break
		}
		// $(GO) build, with GO ?= go, is a go build too.
		if i+1 >= len(c.words) || path.Base(f.expand(c.words[i].val)) != "go" || c.words[i+1].val != "build" {
			continue
		}
		b := &goBuildCmd{f: f, words: c.words, goIdx: i, prefix: prefix, flags: map[string]flagUse{}}
		for j := i + 2; j < len(c.words); j++ {
			v := c.words[j].val
			if !strings.HasPrefix(v, "-") {
				b.args = append(b.args, j)
				continue
			}
			name, val, eq := strings.Cut(v, "=")
			name = "-" + strings.TrimLeft(name, "-") // --ldflags is -ldflags
			switch {
			case eq:
				b.flags[name] = flagUse{nameIdx: j, valIdx: j, val: val}
			case goValueFlags[name] && j+1 < len(c.words):
				b.flags[name] = flagUse{nameIdx: j, valIdx: j + 1, val: c.words[j+1].val}
				j++
			default:
				b.flags[name] = flagUse{nameIdx: j, valIdx: -1}
			}
		}
		out = append(out, b)
	}
	return out
}

func (b *goBuildCmd) buildWord() word { return b.words[b.goIdx+1] }
func (b *goBuildCmd) goWord() word    { return b.words[b.goIdx] }

// envValue returns a variable's value for this command: its own prefix
// first, then what the file exports. where is the def to edit for it.
func (b *goBuildCmd) envValue(name string) (val string, found bool) {
	if i, ok := b.prefix[name]; ok {
		_, v, _ := isAssignment(b.words[i].val)
		return b.f.expand(v), true
	}
	if d, ok := b.f.env[name]; ok {
		return b.f.expand(d.val), true
	}
	return "", false
}

// goflags returns GOFLAGS as set for the command, expanded.
func (b *goBuildCmd) goflags() []string {
	v, _ := b.envValue("GOFLAGS")
	return strings.Fields(v)
}

// hasFlag reports whether the command, or GOFLAGS, sets a flag.
func (b *goBuildCmd) hasFlag(name string) bool {
	if _, ok := b.flags[name]; ok {
		return true
	}
	for _, g := range b.goflags() {
		if g == name || strings.HasPrefix(g, name+"=") {
			return true
		}
	}
	return false
}

// flagValue returns the expanded value of a valued flag, and GOFLAGS' one.
func (b *goBuildCmd) flagValue(name string) string {
	var vals []string
	if u, ok := b.flags[name]; ok {
		vals = append(vals, b.f.expand(u.val))
	}
	for _, g := range b.goflags() {
		if v, ok := strings.CutPrefix(g, name+"="); ok {
			vals = append(vals, v)
		}
	}
	return strings.Join(vals, " ")
}

// output returns the -o value word, if any.
func (b *goBuildCmd) output() (word, string, bool) {
	u, ok := b.flags["-o"]
	if !ok {
		return word{}, "", false
	}
	w := b.words[u.valIdx]
	if u.valIdx == u.nameIdx {
		return w, u.val, true
	}
	return w, w.val, true
}

// appendToValue returns an edit adding extra to a flag value word, inside
// its quotes when it has some, quoting it when the result has a space.
func appendToValue(f *textFile, w word, eqForm bool, sep, extra string, seq int) Edit {
	raw := f.raw(w)
	line := f.lines.line(w.start)
	if n := len(raw); n > 0 && (raw[n-1] == '"' || raw[n-1] == '\'') {
		return Edit{File: f.rel, Line: line, Start: w.end - 1, End: w.end - 1, New: sep + extra, seq: seq}
	}
	if !strings.Contains(sep+extra, " ") {
		return Edit{File: f.rel, Line: line, Start: w.end, End: w.end, New: sep + extra, seq: seq}
	}
	// Unquoted: quote the whole value now that it has a space.
	if eqForm {
		name, val, _ := strings.Cut(raw, "=")
		return Edit{File: f.rel, Line: line, Start: w.start, End: w.end, New: name + `="` + val + sep + extra + `"`, seq: seq}
	}
	return Edit{File: f.rel, Line: line, Start: w.start, End: w.end, New: `"` + raw + sep + extra + `"`, seq: seq}
}

// replaceTail returns an edit replacing the old suffix of a word's raw
// text (before a closing quote) with repl; false when the word does not
// end that way.
func replaceTail(f *textFile, w word, old, repl string) (Edit, bool) {
	raw := f.raw(w)
	end := w.end
	if n := len(raw); n > 0 && (raw[n-1] == '"' || raw[n-1] == '\'') {
		raw, end = raw[:n-1], end-1
	}
	if !strings.HasSuffix(raw, old) {
		return Edit{}, false
	}
	return Edit{File: f.rel, Line: f.lines.line(w.start), Start: end - len(old), End: end, New: repl}, true
}

// cargoBuildCmd is a `cargo build`, `cargo lambda build`, `cargo
// zigbuild` or `cross build` command.
type cargoBuildCmd struct {
	f        *textFile
	words    []word
	buildIdx int
	lambda   bool // cargo lambda build
}

func (f *textFile) cargoBuilds() []*cargoBuildCmd {
	var out []*cargoBuildCmd
	for _, c := range f.cmds {
		ws := c.words
		i := 0
		for i < len(ws) {
			if _, _, ok := isAssignment(ws[i].val); ok || ws[i].val == "env" {
				i++
				continue
			}
			break
		}
		if i+1 >= len(ws) {
			continue
		}
		tool := path.Base(f.expand(ws[i].val)) // $(CARGO) build, with CARGO ?= cargo
		switch {
		case (tool == "cargo" || tool == "cross") && (ws[i+1].val == "build" || ws[i+1].val == "zigbuild"):
			out = append(out, &cargoBuildCmd{f: f, words: ws, buildIdx: i + 1})
		case tool == "cargo" && ws[i+1].val == "lambda" && i+2 < len(ws) && ws[i+2].val == "build":
			out = append(out, &cargoBuildCmd{f: f, words: ws, buildIdx: i + 2, lambda: true})
		}
	}
	return out
}

func (c *cargoBuildCmd) has(flags ...string) (string, bool) {
	for j := c.buildIdx + 1; j < len(c.words); j++ {
		v := c.words[j].val
		for _, fl := range flags {
			if v == fl || strings.HasPrefix(v, fl+"=") {
				val := strings.TrimPrefix(strings.TrimPrefix(v, fl), "=")
				if val == "" && j+1 < len(c.words) && !strings.HasPrefix(c.words[j+1].val, "-") {
					val = c.words[j+1].val
				}
				return c.f.expand(val), true
			}
		}
	}
	return "", false
}

func (c *cargoBuildCmd) release() bool {
	if _, ok := c.has("--release", "-r"); ok {
		return true
	}
	p, ok := c.has("--profile")
	return ok && p == "release"
}

// zipInputs returns, for zip commands, the words naming files put in the
// archive (not the archive itself, not flags).
func (f *textFile) zipInputs() []word {
	var out []word
	for _, c := range f.cmds {
		if len(c.words) == 0 || c.words[0].val != "zip" {
			continue
		}
		archive := false
		for _, w := range c.words[1:] {
			if strings.HasPrefix(w.val, "-") {
				continue
			}
			if !archive {
				archive = true
				continue
			}
			out = append(out, w)
		}
	}
	return out
}

// upxCmds returns the commands that pack a binary with UPX.
func (f *textFile) upxCmds() []command {
	var out []command
	for _, c := range f.cmds {
		if len(c.words) > 0 && path.Base(c.words[0].val) == "upx" {
			out = append(out, c)
		}
	}
	return out
}

// wholeLine returns the span of the physical lines a command fills,
// newline included, when nothing else shares them.
func (f *textFile) wholeLine(c command) (int, int, bool) {
	first, last := c.words[0].start, c.words[len(c.words)-1].end
	ls := first
	for ls > 0 && f.src[ls-1] != '\n' {
		ls--
	}
	if strings.TrimLeft(string(f.src[ls:first]), " \t@-+") != "" {
		return 0, 0, false
	}
	le := last
	for le < len(f.src) && f.src[le] != '\n' {
		le++
	}
	if strings.TrimSpace(string(f.src[last:le])) != "" {
		return 0, 0, false
	}
	if le < len(f.src) {
		le++
	}
	return ls, le, true
}
