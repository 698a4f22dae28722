package project

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// yamlFile is a YAML build file. The yaml.v3 node tree is only used to
// find values (line and column); edits patch the original bytes, so the
// user's comments, quoting and layout stay as they were.
type yamlFile struct {
	rel   string
	src   []byte
	lines lineIndex
	root  *yaml.Node // the document's top mapping
}

func parseYAML(rel string, src []byte) (*yamlFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid YAML (%v): fix it, then run fnopt optimize again", rel, oneLine(err.Error()))
	}
	y := &yamlFile{rel: rel, src: src, lines: newLineIndex(src)}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		y.root = doc.Content[0]
	}
	return y, nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	return strings.TrimPrefix(s, "yaml: ")
}

// offset converts a yaml.v3 position (1-based line, 1-based column in
// characters) to a byte offset.
func (y *yamlFile) offset(line, col int) int {
	if line < 1 || line > len(y.lines) {
		return -1
	}
	off := y.lines[line-1]
	for c := 1; c < col && off < len(y.src) && y.src[off] != '\n'; c++ {
		_, size := utf8.DecodeRune(y.src[off:])
		off += size
	}
	return off
}

// scalarSpan returns the byte span of a scalar's text without its quotes.
// It refuses what it cannot patch safely: multi-line and tagged scalars,
// or text that does not match the parsed value.
func (y *yamlFile) scalarSpan(n *yaml.Node) (int, int, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return 0, 0, false
	}
	off := y.offset(n.Line, n.Column)
	if off < 0 || off >= len(y.src) {
		return 0, 0, false
	}
	rest := y.src[off:]
	if q := rest[0]; q == '"' || q == '\'' {
		if !bytes.HasPrefix(rest[1:], []byte(n.Value)) || len(rest) < len(n.Value)+2 || rest[1+len(n.Value)] != q {
			return 0, 0, false // escapes inside: not a simple value
		}
		return off + 1, off + 1 + len(n.Value), true
	}
	if !bytes.HasPrefix(rest, []byte(n.Value)) {
		return 0, 0, false
	}
	return off, off + len(n.Value), true
}

// setScalar returns an edit that changes a scalar's value in place.
func (y *yamlFile) setScalar(n *yaml.Node, val string) (Edit, bool) {
	s, e, ok := y.scalarSpan(n)
	if !ok {
		return Edit{}, false
	}
	return Edit{File: y.rel, Line: n.Line, Start: s, End: e, New: val}, true
}

func (y *yamlFile) evidence(n *yaml.Node) Evidence {
	return Evidence{File: y.rel, Line: n.Line, Text: strings.TrimSpace(lineText(y.src, n.Line))}
}

// lineEnd returns the offset just after the newline ending line n.
func (y *yamlFile) lineEnd(n int) int {
	if n >= len(y.lines) {
		return len(y.src)
	}
	return y.lines[n]
}

// keyStartsLine reports whether a mapping key is the first thing on its
// line (block style), so lines can be inserted beside it.
func (y *yamlFile) keyStartsLine(k *yaml.Node) bool {
	off := y.offset(k.Line, k.Column)
	return off >= 0 && strings.TrimLeft(string(y.src[y.lines[k.Line-1]:off]), " ") == ""
}

// insertAfterEntry returns an edit inserting text (whole lines, without
// indentation) after the entry whose key is k and value v, indented like
// k. The entry must fit on k's line.
func (y *yamlFile) insertAfterEntry(k, v *yaml.Node, lines ...string) (Edit, bool) {
	if !y.keyStartsLine(k) || v.Kind != yaml.ScalarNode || v.Line != k.Line {
		return Edit{}, false
	}
	indent := strings.Repeat(" ", k.Column-1)
	nl := newline(y.src)
	var b strings.Builder
	if off := y.lineEnd(k.Line); off == len(y.src) && !bytes.HasSuffix(y.src, []byte("\n")) {
		b.WriteString(nl)
	}
	for _, l := range lines {
		b.WriteString(indent + l + nl)
	}
	at := y.lineEnd(k.Line)
	return Edit{File: y.rel, Line: k.Line + 1, Start: at, End: at, New: b.String()}, true
}

// insertBeforeKey returns an edit inserting lines before the line of key
// k, indented like k.
func (y *yamlFile) insertBeforeKey(k *yaml.Node, lines ...string) (Edit, bool) {
	if !y.keyStartsLine(k) {
		return Edit{}, false
	}
	indent := strings.Repeat(" ", k.Column-1)
	nl := newline(y.src)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(indent + l + nl)
	}
	at := y.lines[k.Line-1]
	return Edit{File: y.rel, Line: k.Line, Start: at, End: at, New: b.String()}, true
}

// newline is the file's line ending: inserted lines use the same.
func newline(src []byte) string {
	if bytes.Contains(src, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// get returns the key and value nodes of a mapping entry.
func get(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func value(m *yaml.Node, key string) *yaml.Node { _, v := get(m, key); return v }

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// indentUnit is how much deeper a mapping's entries sit than its key.
func indentUnit(k, v *yaml.Node) int {
	if v != nil && v.Kind == yaml.MappingNode && len(v.Content) > 0 && v.Content[0].Column > k.Column {
		return v.Content[0].Column - k.Column
	}
	return 2
}

// function is one Lambda function declared in a SAM template or a
// serverless.yml, with the nodes that say what it targets. Nodes that
// come from a shared place (SAM Globals, serverless provider) are shared
// between functions.
type function struct {
	file    *yamlFile
	name    string
	runtime nodeRef // Runtime (SAM) or runtime
	handler nodeRef
	arch    nodeRef // the scalar naming the architecture
	// archAt is where an architecture line can be added when arch is
	// missing: after the runtime entry.
	archKey string // "Architectures" (SAM, a list) or "architecture"
	// SAM only.
	buildMethod string
	codeURI     string
	packageType string // Zip or Image
	sam         bool   // AWS::Serverless::Function (sam build builds it)
	// serverless only: the zip the function ships (package.artifact).
	artifact string
	resource *yaml.Node // the resource mapping
}

// nodeRef is a key/value pair; both nil when absent.
type nodeRef struct{ key, val *yaml.Node }

func (r nodeRef) value() string { return scalar(r.val) }

// samFunctions returns the functions of a SAM or CloudFormation template.
func (y *yamlFile) samFunctions() []*function {
	var out []*function
	globals := value(value(y.root, "Globals"), "Function")
	resources := value(y.root, "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		name, res := resources.Content[i].Value, resources.Content[i+1]
		typ := scalar(value(res, "Type"))
		if typ != "AWS::Serverless::Function" && typ != "AWS::Lambda::Function" {
			continue
		}
		props := value(res, "Properties")
		fn := &function{file: y, name: name, archKey: "Architectures", resource: res,
			buildMethod: scalar(value(value(res, "Metadata"), "BuildMethod")),
			codeURI:     scalar(value(props, "CodeUri")), packageType: scalar(value(props, "PackageType")),
			sam: typ == "AWS::Serverless::Function"}
		fn.runtime = pick(props, globals, "Runtime", typ == "AWS::Serverless::Function")
		fn.handler = pick(props, globals, "Handler", typ == "AWS::Serverless::Function")
		archs := pick(props, globals, "Architectures", typ == "AWS::Serverless::Function")
		if archs.val != nil {
			fn.arch.key = archs.key
			if archs.val.Kind == yaml.SequenceNode && len(archs.val.Content) == 1 {
				fn.arch.val = archs.val.Content[0]
			} else {
				fn.arch.val = archs.val // not a one-element list: left alone
			}
		}
		out = append(out, fn)
	}
	return out
}

// pick finds key in a resource's properties, then in Globals.Function.
func pick(props, globals *yaml.Node, key string, useGlobals bool) nodeRef {
	if k, v := get(props, key); k != nil {
		return nodeRef{k, v}
	}
	if useGlobals {
		if k, v := get(globals, key); k != nil {
			return nodeRef{k, v}
		}
	}
	return nodeRef{}
}

// isSAM reports whether the document is a CloudFormation/SAM template.
func (y *yamlFile) isSAM() bool {
	if y.root == nil {
		return false
	}
	if k, _ := get(y.root, "AWSTemplateFormatVersion"); k != nil {
		return true
	}
	t := value(y.root, "Transform")
	if strings.HasPrefix(scalar(t), "AWS::Serverless") {
		return true
	}
	if t != nil && t.Kind == yaml.SequenceNode {
		for _, c := range t.Content {
			if strings.HasPrefix(scalar(c), "AWS::Serverless") {
				return true
			}
		}
	}
	return false
}

// serverlessFunctions returns the functions of a serverless.yml.
func (y *yamlFile) serverlessFunctions() []*function {
	provider := value(y.root, "provider")
	fns := value(y.root, "functions")
	if fns == nil || fns.Kind != yaml.MappingNode {
		return nil
	}
	var out []*function
	for i := 0; i+1 < len(fns.Content); i += 2 {
		name, body := fns.Content[i].Value, fns.Content[i+1]
		fn := &function{file: y, name: name, archKey: "architecture"}
		fn.runtime = pick(body, provider, "runtime", true)
		fn.handler = pick(body, nil, "handler", false)
		fn.arch = pick(body, provider, "architecture", true)
		fn.artifact = scalar(value(value(body, "package"), "artifact"))
		out = append(out, fn)
	}
	return out
}

// isServerless reports whether the document is a Serverless Framework
// configuration for AWS.
func (y *yamlFile) isServerless() bool {
	return y.root != nil && scalar(value(value(y.root, "provider"), "name")) == "aws"
}
