package countio

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	errTooBig := errors.New("too big")
	for _, tc := range []struct {
		name    string
		r       *Reader
		wantN   int64
		wantEOF bool
		wantErr error
	}{
		{"counts a whole stream", NewReader(strings.NewReader("hello")), 5, true, nil},
		{"limit not reached", NewLimitedReader(strings.NewReader("hello"), 5, errTooBig), 5, true, nil},
		{"limit passed", NewLimitedReader(strings.NewReader("hello world"), 5, errTooBig), 11, false, errTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := io.Copy(io.Discard, tc.r)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("copy: %v, want %v", err, tc.wantErr)
			}
			if tc.r.N() != tc.wantN || tc.r.EOF() != tc.wantEOF {
				t.Errorf("N %d EOF %v, want %d %v", tc.r.N(), tc.r.EOF(), tc.wantN, tc.wantEOF)
			}
		})
	}
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	io.WriteString(w, "abc")
	io.WriteString(w, "de")
	if w.N() != 5 || b.String() != "abcde" {
		t.Errorf("N %d, wrote %q", w.N(), b.String())
	}
}
