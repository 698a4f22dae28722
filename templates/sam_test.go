package templates_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/fnopt/fnopt/templates"
)

// lookAhead is the one pattern of the SAM schema Go's regexp cannot
// compile.
const lookAhead = `^(?!AWS::Serverless::).+$`

// notPrefixPattern matches the same strings as ^(?!P).+$ without a
// look-ahead: non-empty proper prefixes of P, or strings that leave P at
// some position.
func notPrefixPattern(p string) string {
	var alts []string
	for i := 0; i < len(p); i++ {
		alts = append(alts, regexp.QuoteMeta(p[:i])+"[^"+regexp.QuoteMeta(p[i:i+1])+"].*")
		if i > 0 {
			alts = append(alts, regexp.QuoteMeta(p[:i]))
		}
	}
	return "^(?:" + strings.Join(alts, "|") + ")$"
}

func TestNotPrefixPattern(t *testing.T) {
	re := regexp.MustCompile(notPrefixPattern("AWS::Serverless::"))
	for s, want := range map[string]bool{
		"AWS::SQS::Queue": true, "AWS::S3::Bucket": true, "Custom::X": true, "A": true, "AWS::Serverless:": true,
		"AWS::Serverless::Function": false, "AWS::Serverless::": false, "": false,
	} {
		if got := re.MatchString(s); got != want {
			t.Errorf("%q: match %v, want %v", s, got, want)
		}
	}
}

func samSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join(sharedDir(t), "reference", "sam", "sam.schema.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	quoted, _ := json.Marshal(lookAhead)
	if !bytes.Contains(data, quoted) {
		t.Fatalf("%s no longer has the pattern %s: update the rewrite", path, lookAhead)
	}
	rewritten, _ := json.Marshal(notPrefixPattern("AWS::Serverless::"))
	data = bytes.ReplaceAll(data, quoted, rewritten)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///sam.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("file:///sam.schema.json")
	if err != nil {
		t.Fatalf("compiling the SAM schema: %v", err)
	}
	return sch
}

// cfnJSON turns a CloudFormation YAML template into its JSON form: the
// short-form intrinsic tags (!Ref, !GetAtt, !Sub) become {"Ref": ...},
// {"Fn::GetAtt": [...]} and {"Fn::Sub": ...}.
func cfnJSON(t *testing.T, src []byte) any {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		t.Fatalf("template.yaml is not YAML: %v", err)
	}
	v, err := nodeValue(root.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	// Round trip through JSON so the schema library sees its own types.
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
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
		return nil, fmt.Errorf("line %d: tag %s not handled by the test", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i < len(n.Content); i += 2 {
			v, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		var s []any
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func TestTemplateYAMLIsValidSAM(t *testing.T) {
	sch := samSchema(t)
	seen := map[string]bool{}
	for _, o := range combinations() {
		fs := files(t, o)
		src := fs["template.yaml"].Data
		if seen[string(src)] {
			continue
		}
		seen[string(src)] = true
		t.Run(fmt.Sprintf("%s/%s/%s/%s/%s", o.Lang, o.Event, o.Client, o.Arch, o.Package), func(t *testing.T) {
			doc := cfnJSON(t, src)
			if err := sch.Validate(doc); err != nil {
				t.Fatalf("template.yaml does not validate against the SAM schema: %v\n%s", err, src)
			}
			checkFunction(t, o, doc)
		})
	}
}

// The schema check can fail: mistakes in a function's properties or in
// an event are caught.
func TestSAMSchemaCatchesMistakes(t *testing.T) {
	sch := samSchema(t)
	src := files(t, templates.Options{Name: "x", Lang: "go", Event: "sqs", Arch: "arm64", Package: "zip", Client: "minimal"})["template.yaml"].Data
	for _, tc := range []struct{ name, old, new string }{
		{"unknown function property", "      MemorySize: 128", "      MemorySizes: 128"},
		{"unknown event type", "          Type: SQS", "          Type: SQSQueue"},
		{"SQS event without its queue", "            Queue: !GetAtt Queue.Arn", "            Queues: !GetAtt Queue.Arn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := bytes.Replace(src, []byte(tc.old), []byte(tc.new), 1)
			if bytes.Equal(bad, src) {
				t.Fatalf("%q not in template.yaml", tc.old)
			}
			if err := sch.Validate(cfnJSON(t, bad)); err == nil {
				t.Error("the schema accepted it")
			}
		})
	}
}

// checkFunction checks the values the schema cannot: it accepts any
// string or intrinsic function for most properties.
func checkFunction(t *testing.T, o templates.Options, doc any) {
	t.Helper()
	top := doc.(map[string]any)
	if top["Transform"] != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %v", top["Transform"])
	}
	resources := top["Resources"].(map[string]any)
	var fn map[string]any
	for _, r := range resources {
		if r := r.(map[string]any); r["Type"] == "AWS::Serverless::Function" {
			if fn != nil {
				t.Fatal("more than one function")
			}
			fn = r
		}
	}
	if fn == nil {
		t.Fatal("no AWS::Serverless::Function")
	}
	props := fn["Properties"].(map[string]any)
	meta, _ := fn["Metadata"].(map[string]any)
	if got := fmt.Sprint(props["Architectures"]); got != "["+o.Arch+"]" {
		t.Errorf("Architectures = %s, want [%s]", got, o.Arch)
	}
	if fmt.Sprint(props["MemorySize"]) != "128" {
		t.Errorf("MemorySize = %v", props["MemorySize"])
	}
	if o.Package == "zip" {
		if props["Runtime"] != "provided.al2023" || props["Handler"] != "bootstrap" || meta["BuildMethod"] != "makefile" {
			t.Errorf("zip function: Runtime %v, Handler %v, BuildMethod %v", props["Runtime"], props["Handler"], meta["BuildMethod"])
		}
	} else {
		// Lambda rejects Runtime and Handler on image functions.
		if props["PackageType"] != "Image" || props["ImageUri"] == nil || props["Runtime"] != nil || props["Handler"] != nil || meta == nil {
			t.Errorf("image function: %v, metadata %v", props, meta)
		}
	}
	events, _ := props["Events"].(map[string]any)
	eventType := ""
	for _, e := range events {
		eventType = fmt.Sprint(e.(map[string]any)["Type"])
	}
	want := map[string]string{"raw": "", "url": "", "http": "HttpApi", "sqs": "SQS", "s3": "S3", "eventbridge": "EventBridgeRule"}[o.Event]
	if len(events) > 1 || eventType != want {
		t.Errorf("events %v, want one of type %q", events, want)
	}
	switch o.Event {
	case "url":
		if cfg, _ := props["FunctionUrlConfig"].(map[string]any); cfg["AuthType"] == nil {
			t.Errorf("FunctionUrlConfig = %v", props["FunctionUrlConfig"])
		}
	case "sqs":
		p := fmt.Sprint(events)
		if !strings.Contains(p, "ReportBatchItemFailures") || !strings.Contains(p, "Fn::GetAtt:[Queue Arn]") {
			t.Errorf("SQS event %s", p)
		}
		if resources["Queue"].(map[string]any)["Type"] != "AWS::SQS::Queue" {
			t.Error("no queue resource")
		}
	case "s3":
		if resources["Bucket"].(map[string]any)["Type"] != "AWS::S3::Bucket" {
			t.Error("no bucket resource")
		}
	}
}
