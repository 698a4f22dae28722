package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
)

// Expect checks a response body: equal as JSON to a document, or matching
// a regular expression.
type Expect struct {
	re   *regexp.Regexp
	doc  any
	text string
}

// ParseExpect reads an expectation: /REGEX/ is a regular expression (Go
// syntax) matched anywhere in the body; anything else must be a JSON
// document that the body must equal semantically (key order, spacing and
// number spelling do not matter). Its errors are *ExpectError.
func ParseExpect(s string) (*Expect, error) {
	if len(s) >= 2 && s[0] == '/' && s[len(s)-1] == '/' {
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return nil, &ExpectError{Text: s, Regexp: true, Err: err}
		}
		return &Expect{re: re, text: s}, nil
	}
	doc, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, &ExpectError{Text: s, Err: err}
	}
	return &Expect{doc: doc, text: s}, nil
}

// ExpectError is an expectation ParseExpect cannot read. Commands name
// their flag from its fields; the message names none.
type ExpectError struct {
	Text string // the expectation as given
	// Regexp is set when Text is a /REGEX/ that does not compile; else
	// Text is not one JSON document.
	Regexp bool
	Err    error // the compiler's or the decoder's error
}

func (e *ExpectError) Error() string {
	if e.Regexp {
		return fmt.Sprintf("expected answer %s: %v", e.Text, e.Err)
	}
	return fmt.Sprintf("expected answer %s must be a JSON document or /regex/: %v", e.Text, e.Err)
}

func (e *ExpectError) Unwrap() error { return e.Err }

// String is the expectation as given.
func (e *Expect) String() string { return e.text }

// Check returns an error saying how body differs from the expectation.
func (e *Expect) Check(body []byte) error {
	if e.re != nil {
		if !e.re.Match(body) {
			return fmt.Errorf("response %s does not match %s", clip(body), e.text)
		}
		return nil
	}
	got, err := decodeJSON(body)
	if err != nil {
		return fmt.Errorf("response %s is not JSON; expected %s", clip(body), e.text)
	}
	if !reflect.DeepEqual(got, e.doc) {
		return fmt.Errorf("response %s, expected %s", clip(body), e.text)
	}
	return nil
}

// decodeJSON decodes one JSON document; numbers become float64, so 1 and
// 1.0 are equal.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}

func clip(b []byte) string {
	const max = 200
	if len(b) > max {
		return fmt.Sprintf("%q...", b[:max])
	}
	return fmt.Sprintf("%q", b)
}
