package project

import (
	"strings"
)

// word is one shell word of a build file with the byte span of its raw
// text, so that an edit can replace exactly that text.
type word struct {
	start, end int    // raw text is src[start:end]
	val        string // value with quotes and line continuations removed
	op         bool   // an operator: ; && || | & ( )
}

// command is one simple command: the words between two operators.
type command struct {
	words []word
	line  int // 1-based line of its first word
}

// fileKind says how a text build file is read.
type fileKind int

const (
	kindShell fileKind = iota
	kindMakefile
	kindDockerfile
)

// commands splits src into simple commands. It understands what build
// files need: quotes, $(...) and ${...} references, backslash line
// continuations, comments and the operators between commands. Makefile
// recipe prefixes (@ - +) and the Dockerfile RUN keyword are dropped.
func commands(src []byte, kind fileKind) []command {
	var out []command
	lines := newLineIndex(src)
	for _, ll := range logicalLines(src) {
		words := tokenize(src, ll[0], ll[1])
		var cur []word
		flush := func() {
			if len(cur) > 0 {
				out = append(out, command{words: cur, line: lines.line(cur[0].start)})
			}
			cur = nil
		}
		for _, w := range words {
			if w.op {
				flush()
				continue
			}
			if len(cur) == 0 {
				switch {
				case kind == kindMakefile && strings.TrimLeft(w.val, "@-+") != w.val:
					// Recipe prefixes: "@go build" runs "go build".
					trimmed := strings.TrimLeft(w.val, "@-+")
					w.start += len(w.val) - len(trimmed)
					w.val = trimmed
					if w.val == "" {
						continue
					}
				case kind == kindDockerfile && strings.EqualFold(w.val, "RUN") && isLineStart(src, w.start):
					continue
				}
			}
			cur = append(cur, w)
		}
		flush()
	}
	return out
}

func isLineStart(src []byte, i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch src[j] {
		case ' ', '\t':
			continue
		case '\n':
			return true
		default:
			return false
		}
	}
	return true
}

// logicalLines returns [start,end) spans of lines joined by a trailing
// backslash, without the final newline.
func logicalLines(src []byte) [][2]int {
	var out [][2]int
	start := 0
	for i := 0; i <= len(src); i++ {
		if i < len(src) && src[i] != '\n' {
			continue
		}
		if i < len(src) && i > start && src[i-1] == '\\' {
			continue // continued on the next line
		}
		out = append(out, [2]int{start, i})
		start = i + 1
	}
	return out
}

// tokenize splits src[start:end] into words and operators.
func tokenize(src []byte, start, end int) []word {
	var out []word
	i := start
	for i < end {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '\\' && i+1 < end && src[i+1] == '\n':
			i += 2
			continue
		case c == '#':
			// A comment runs to the end of its physical line.
			for i < end && src[i] != '\n' {
				i++
			}
			continue
		case c == ';' || c == '|' || c == '&' || c == '(' || c == ')':
			j := i + 1
			if (c == '&' || c == '|') && j < end && src[j] == c {
				j++
			}
			out = append(out, word{start: i, end: j, val: string(src[i:j]), op: true})
			i = j
			continue
		}
		w, j := scanWord(src, i, end)
		out = append(out, w)
		i = j
	}
	return out
}

// scanWord reads one word starting at i.
func scanWord(src []byte, i, end int) (word, int) {
	var val strings.Builder
	start := i
	for i < end {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == ';' || c == '|' || c == '&' || c == '(' || c == ')':
			return word{start: start, end: i, val: val.String()}, i
		case c == '\\' && i+1 < end && src[i+1] == '\n':
			return word{start: start, end: i, val: val.String()}, i
		case c == '\\' && i+1 < end:
			val.WriteByte(src[i+1])
			i += 2
		case c == '\'' || c == '"':
			j := i + 1
			for j < end && src[j] != c {
				if c == '"' && src[j] == '\\' && j+1 < end {
					j++
				}
				j++
			}
			val.Write(src[i+1 : min(j, end)])
			i = min(j+1, end)
		case c == '$' && i+1 < end && (src[i+1] == '(' || src[i+1] == '{'):
			// $(VAR), $(shell ...), ${VAR}: one unit, nested brackets kept.
			open, close := src[i+1], byte(')')
			if open == '{' {
				close = '}'
			}
			depth, j := 0, i+1
			for ; j < end; j++ {
				if src[j] == open {
					depth++
				} else if src[j] == close {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			j = min(j+1, end)
			val.Write(src[i:j])
			i = j
		default:
			val.WriteByte(c)
			i++
		}
	}
	return word{start: start, end: i, val: val.String()}, i
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int // start offset of each line

func newLineIndex(src []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range src {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l lineIndex) line(off int) int {
	lo, hi := 0, len(l)
	for lo+1 < hi {
		m := (lo + hi) / 2
		if l[m] <= off {
			lo = m
		} else {
			hi = m
		}
	}
	return lo + 1
}

// lineText returns line n (1-based) without its newline.
func lineText(src []byte, n int) string {
	lines := strings.Split(string(src), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimRight(lines[n-1], "\r")
}

// isAssignment reports whether a word is NAME=value.
func isAssignment(v string) (name, value string, ok bool) {
	i := strings.IndexByte(v, '=')
	if i <= 0 {
		return "", "", false
	}
	for j, r := range v[:i] {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || j > 0 && r >= '0' && r <= '9') {
			return "", "", false
		}
	}
	return v[:i], v[i+1:], true
}
