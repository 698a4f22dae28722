package project

import (
	"sync"
	"testing"

	"github.com/fnopt/fnopt/internal/samschema"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	samOnce   sync.Once
	samSch    *jsonschema.Schema
	samSchErr error
)

// samSchema compiles the official SAM schema (internal/awsref) once per
// test binary.
func samSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	samOnce.Do(func() {
		samSch, samSchErr = samschema.Official()
	})
	if samSchErr != nil {
		t.Fatalf("SAM schema: %v", samSchErr)
	}
	return samSch
}

// checkSAM validates a SAM template against the schema.
func checkSAM(t *testing.T, src []byte) {
	t.Helper()
	if err := samschema.Validate(samSchema(t), src); err != nil {
		t.Errorf("template is not valid SAM: %v", err)
	}
}

// TestSAMSchemaBites makes sure the schema check can fail: a function
// with an unknown property is not valid SAM.
func TestSAMSchemaBites(t *testing.T) {
	bad := "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: provided.al2023\n      Handlr: bootstrap\n"
	if err := samschema.Validate(samSchema(t), []byte(bad)); err == nil {
		t.Error("a template with the misspelt property Handlr passed the SAM schema")
	}
}
