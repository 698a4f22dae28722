package project

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// The SAM schema has one pattern with a look-ahead, which Go's regexp
// lacks; it is replaced by an equivalent pattern before compiling.
const samLookAhead = `^(?!AWS::Serverless::).+$`

func notPrefix(p string) string {
	var alts []string
	for i := 0; i < len(p); i++ {
		alts = append(alts, regexp.QuoteMeta(p[:i])+"[^"+regexp.QuoteMeta(p[i:i+1])+"].*")
		if i > 0 {
			alts = append(alts, regexp.QuoteMeta(p[:i]))
		}
	}
	return "^(?:" + strings.Join(alts, "|") + ")$"
}

var (
	samOnce   sync.Once
	samSch    *jsonschema.Schema
	samSchErr error
)

// samSchema compiles shared/reference/sam/sam.schema.json (beside the
// repository, as CI lays it out) once per test binary.
func samSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	samOnce.Do(func() {
		path := filepath.Join(repoRoot(t), "..", "shared", "reference", "sam", "sam.schema.json")
		data, err := os.ReadFile(path)
		if err != nil {
			samSchErr = err
			return
		}
		quoted, _ := json.Marshal(samLookAhead)
		repl, _ := json.Marshal(notPrefix("AWS::Serverless::"))
		data = bytes.ReplaceAll(data, quoted, repl)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			samSchErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if samSchErr = c.AddResource("file:///sam.schema.json", doc); samSchErr != nil {
			return
		}
		samSch, samSchErr = c.Compile("file:///sam.schema.json")
	})
	if samSchErr != nil {
		t.Fatalf("SAM schema: %v", samSchErr)
	}
	return samSch
}

// checkSAM validates a SAM template against the schema, with the short
// intrinsic tags turned into their JSON forms.
func checkSAM(t *testing.T, src []byte) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		t.Fatal(err)
	}
	v, err := cfnValue(root.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := samSchema(t).Validate(inst); err != nil {
		t.Errorf("template is not valid SAM: %v", err)
	}
}

func cfnValue(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!Ref":
		return map[string]any{"Ref": n.Value}, nil
	case "!GetAtt":
		return map[string]any{"Fn::GetAtt": strings.SplitN(n.Value, ".", 2)}, nil
	case "!Sub":
		return map[string]any{"Fn::Sub": n.Value}, nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: tag %s not handled by the test", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		var s []any
		for _, c := range n.Content {
			v, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	}
	switch n.Tag {
	case "!!int":
		return strconv.Atoi(n.Value)
	case "!!float":
		return strconv.ParseFloat(n.Value, 64)
	case "!!bool":
		return n.Value == "true", nil
	case "!!null":
		return nil, nil
	}
	return n.Value, nil
}

// TestSAMSchemaBites makes sure the schema check can fail: a function
// with an unknown property is not valid SAM.
func TestSAMSchemaBites(t *testing.T) {
	bad := "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: provided.al2023\n      Handlr: bootstrap\n"
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(bad), &root); err != nil {
		t.Fatal(err)
	}
	v, err := cfnValue(root.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err := samSchema(t).Validate(inst); err == nil {
		t.Error("a template with the misspelt property Handlr passed the SAM schema")
	}
}
