package templates_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/fnopt/fnopt/internal/samschema"
	"github.com/fnopt/fnopt/templates"
)

func samSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := samschema.Official()
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// cfnJSON turns a CloudFormation YAML template into its JSON form.
func cfnJSON(t *testing.T, src []byte) any {
	t.Helper()
	doc, err := samschema.TemplateJSON(src)
	if err != nil {
		t.Fatal(err)
	}
	return doc
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
	if got := fmt.Sprint(props["Architectures"]); got != "["+string(o.Arch)+"]" {
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
