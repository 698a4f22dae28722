package rootfs

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadahead(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 10_000)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		want    []byte
		wantErr error
	}{
		{"whole stream", bytes.NewReader(data), data, nil},
		{"one byte reads", iotest.OneByteReader(bytes.NewReader(data[:5000])), data[:5000], nil},
		{"empty", bytes.NewReader(nil), nil, nil},
		{"error after data", io.MultiReader(bytes.NewReader(data[:3000]), iotest.ErrReader(boom)), data[:3000], boom},
		{"unexpected EOF passes through", io.MultiReader(bytes.NewReader(data[:100]), iotest.ErrReader(io.ErrUnexpectedEOF)), data[:100], io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ra := newReadahead(tc.r, 1024, 3)
			defer ra.Close()
			got, err := io.ReadAll(iotest.HalfReader(ra))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("read %d bytes, want %d (or different content)", len(got), len(tc.want))
			}
		})
	}
	// Closing before the end stops the goroutine instead of leaking it.
	ra := newReadahead(bytes.NewReader(data), 64, 2)
	buf := make([]byte, 10)
	if _, err := ra.Read(buf); err != nil {
		t.Fatal(err)
	}
	ra.Close()
}
