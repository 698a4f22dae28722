package bytesize

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1048576", 1048576, true},
		{"20MB", 20_000_000, true},
		{"20mb", 20_000_000, true},
		{"19.5 MiB", 20_447_232, true}, // 19.5 * 1,048,576
		{"1KiB", 1024, true},
		{"2k", 2000, true},
		{"10 B", 10, true},
		{"", 0, false},
		{"MB", 0, false},
		{"-1", 0, false},
		{"12 parsecs", 0, false},
		{"1e30GB", 0, false},
		{"9223372036854775808", 0, false}, // 2^63: one past int64
		{"99999999999TB", 0, false},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if !c.ok && !errors.Is(err, ErrSize) {
			t.Errorf("Parse(%q) = %d, %v; want ErrSize", c.in, got, err)
		}
	}
}
