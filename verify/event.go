package verify

import (
	"encoding/json"
	"fmt"
	"os"
)

// ReadEventFile reads the event an invocation sends from path and checks
// that it is one JSON document, as Lambda's Invoke API requires: a file
// that is not would only fail later, inside the function, with an error
// that names neither the file nor the cause.
func ReadEventFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the event: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("the event %s is not valid JSON: give a file holding one JSON document", path)
	}
	return b, nil
}
