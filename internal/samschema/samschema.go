// Package samschema validates AWS SAM templates against the official SAM
// JSON schema (kept in internal/awsref). Tests of the templates and of `fnopt optimize`'s edits use
// it: both must leave template.yaml valid SAM.
package samschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/fnopt/fnopt/internal/awsref"
)

// LookAhead is the one pattern of the SAM schema that Go's regexp cannot
// compile (RE2 has no look-ahead).
const LookAhead = `^(?!AWS::Serverless::).+$`

// NotPrefixPattern matches the same strings as ^(?!P).+$ without a
// look-ahead: the non-empty proper prefixes of P, or strings that leave P
// at some position.
func NotPrefixPattern(p string) string {
	var alts []string
	for i := 0; i < len(p); i++ {
		alts = append(alts, regexp.QuoteMeta(p[:i])+"[^"+regexp.QuoteMeta(p[i:i+1])+"].*")
		if i > 0 {
			alts = append(alts, regexp.QuoteMeta(p[:i]))
		}
	}
	return "^(?:" + strings.Join(alts, "|") + ")$"
}

// Official compiles the official SAM schema kept in internal/awsref.
func Official() (*jsonschema.Schema, error) {
	return Compile(awsref.SAMSchema)
}

// Compile compiles a SAM schema, with LookAhead rewritten.
func Compile(data []byte) (*jsonschema.Schema, error) {
	quoted, _ := json.Marshal(LookAhead)
	if !bytes.Contains(data, quoted) {
		return nil, fmt.Errorf("the SAM schema no longer has the pattern %s: update the rewrite in internal/samschema", LookAhead)
	}
	rewritten, _ := json.Marshal(NotPrefixPattern("AWS::Serverless::"))
	data = bytes.ReplaceAll(data, quoted, rewritten)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing the SAM schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///sam.schema.json", doc); err != nil {
		return nil, err
	}
	sch, err := c.Compile("file:///sam.schema.json")
	if err != nil {
		return nil, fmt.Errorf("compiling the SAM schema: %w", err)
	}
	return sch, nil
}

// TemplateJSON turns a CloudFormation YAML template into the JSON value the
// schema validates: the short-form intrinsic tags (!Ref, !GetAtt, !Sub)
// become {"Ref": ...}, {"Fn::GetAtt": [...]} and {"Fn::Sub": ...}.
func TemplateJSON(src []byte) (any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("template is not YAML: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("template is empty")
	}
	v, err := nodeValue(root.Content[0])
	if err != nil {
		return nil, err
	}
	// Round trip through JSON so the schema library sees its own types.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// Validate checks a YAML template against the schema.
func Validate(sch *jsonschema.Schema, src []byte) error {
	doc, err := TemplateJSON(src)
	if err != nil {
		return err
	}
	return sch.Validate(doc)
}

func nodeValue(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!Ref":
		return map[string]any{"Ref": n.Value}, nil
	case "!GetAtt":
		return map[string]any{"Fn::GetAtt": strings.SplitN(n.Value, ".", 2)}, nil
	case "!Sub":
		return map[string]any{"Fn::Sub": n.Value}, nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: tag %s is not handled", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
