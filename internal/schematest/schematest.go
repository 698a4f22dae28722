// Package schematest checks fnopt's JSON documents against their JSON
// Schemas (draft 2020-12) in tests: the one way every command's test
// loads a schema and validates real output with it.
package schematest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is a compiled schema.
type Schema struct {
	path string
	sch  *jsonschema.Schema
}

// Load compiles the schema in the file at path, failing the test when it
// is not a valid draft 2020-12 schema.
func Load(t testing.TB, path string) *Schema {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	name := filepath.Base(path)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(name, doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &Schema{path: path, sch: sch}
}

// Check returns why the JSON document doc does not validate, or nil.
func (s *Schema) Check(doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return s.sch.Validate(v)
}

// Validate fails the test when doc does not validate, showing the
// document.
func (s *Schema) Validate(t testing.TB, doc []byte) {
	t.Helper()
	if err := s.Check(doc); err != nil {
		t.Errorf("the document does not match %s: %v\n%s", filepath.Base(s.path), err, doc)
	}
}
