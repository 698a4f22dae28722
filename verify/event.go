package verify

import (
	"encoding/json"
	"errors"
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
		return nil, fmt.Errorf("the event %s is %w: give a file holding one JSON document", path, ErrEventNotJSON)
	}
	return b, nil
}

// ErrEventNotJSON is a file ReadEventFile read that does not hold one JSON
// document; its other errors wrap the *fs.PathError of reading.
var ErrEventNotJSON = errors.New("not valid JSON")
