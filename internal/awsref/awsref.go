// Package awsref gives tests AWS's own reference data, kept in the
// repository so that a clone on its own passes its tests: the official SAM
// schema and sample Lambda events (Apache-2.0, see README.md beside this
// file for where each comes from). Only tests import it.
package awsref

import (
	"embed"
	"fmt"
	"io/fs"
)

// SAMSchema is the official JSON schema of AWS SAM templates.
//
//go:embed sam/sam.schema.json
var SAMSchema []byte

//go:embed events/*.json
var events embed.FS

// Event returns the sample event file name (for example
// "sqs-event.json") as AWS sends it.
func Event(name string) ([]byte, error) {
	b, err := events.ReadFile("events/" + name)
	if err != nil {
		return nil, fmt.Errorf("sample event %s: %w (see internal/awsref/events)", name, err)
	}
	return b, nil
}

// Events lists the names of the sample events.
func Events() []string {
	names, _ := fs.Glob(events, "events/*.json")
	for i, n := range names {
		names[i] = n[len("events/"):]
	}
	return names
}
