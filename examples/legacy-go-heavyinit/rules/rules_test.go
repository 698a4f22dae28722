package rules

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"nothing to see", -1},
		{"this has BANNED-TERM-0042s in it", 42},
		{"blocked-term-1999", 1999},
		{"banned-term-2000", -1},
	}
	for _, tt := range tests {
		if got := Match(tt.text); got != tt.want {
			t.Errorf("Match(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}
