package awsref

import (
	"encoding/json"
	"testing"
)

func TestReferenceData(t *testing.T) {
	if !json.Valid(SAMSchema) {
		t.Fatal("sam/sam.schema.json is not JSON")
	}
	names := Events()
	if len(names) < 10 {
		t.Fatalf("only %d sample events: %v", len(names), names)
	}
	for _, n := range names {
		b, err := Event(n)
		if err != nil || !json.Valid(b) {
			t.Errorf("%s: %v (valid JSON: %v)", n, err, json.Valid(b))
		}
	}
	if _, err := Event("missing.json"); err == nil {
		t.Error("a missing event gave no error")
	}
}
