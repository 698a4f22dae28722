package buildcmd

import (
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The --json report validates against the published schema, with and
// without an image: changing a field breaks this test before it breaks a
// user's script.
func TestJSONMatchesSchema(t *testing.T) {
	f, err := os.Open("build.v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("build.v1.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("build.v1.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := project(t, nil)
	for _, args := range [][]string{{dir}, {dir, "--package", "image"}} {
		code, out, errOut := run(t, append(args, "--json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%v: report does not match the schema: %v\n%s", args, err, out)
		}
	}
	// The schema is strict enough to catch a broken report.
	bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(`{"schema":"fnopt.build/v1","name":"x","language":"go","arch":"arm64","settings":{"command":"c","package":"."},"bootstrap":{"path":"p","bytes":1,"sha256":"zz"},"zip":{"path":"p","bytes":1}}`))
	if sch.Validate(bad) == nil {
		t.Error("a report with a bad sha256 and no zip.sha256 validates")
	}
}
