package verify

import (
	"errors"
	"strings"
	"testing"
)

func TestParseExpect(t *testing.T) {
	tests := []struct {
		in         string
		wantErr    bool
		wantRegexp bool // the error is about a /REGEX/
		body       string
		wantMatch  bool
	}{
		{in: `{"a": 1}`, body: `{"a":1.0}`, wantMatch: true},
		{in: `{"a": 1}`, body: `{"a":2}`},
		{in: `/hel+o/`, body: `say hello`, wantMatch: true},
		{in: `/^x$/`, body: `y`},
		{in: `{not json`, wantErr: true},
		{in: `1 2`, wantErr: true},
		{in: `/(/`, wantErr: true, wantRegexp: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e, err := ParseExpect(tt.in)
			if tt.wantErr {
				var ee *ExpectError
				if !errors.As(err, &ee) || ee.Text != tt.in || ee.Regexp != tt.wantRegexp || ee.Err == nil {
					t.Fatalf("err = %#v, want an *ExpectError for %q (regexp %v)", err, tt.in, tt.wantRegexp)
				}
				// Library errors name no flag: commands add theirs.
				if strings.Contains(err.Error(), "--") {
					t.Errorf("error %q names a flag", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Check([]byte(tt.body)) == nil; got != tt.wantMatch {
				t.Errorf("Check(%s) matched %v, want %v", tt.body, got, tt.wantMatch)
			}
		})
	}
}
