package bytesize

import "testing"

func TestFormat(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{MiB - 1, "1024.0 KiB"},
		{MiB, "1.0 MiB"},
		{2432058, "2.3 MiB"},
		{GiB, "1.00 GiB"},
		{GiB + 50*MiB, "1.05 GiB"},
		{-2048, "-2.0 KiB"},
	}
	for _, tt := range tests {
		if got := Format(tt.n); got != tt.want {
			t.Errorf("Format(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFloat(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{1023.6, "1.0 KiB"},
		{12.4, "12 B"},
		{-1023.6, "-1.0 KiB"},
	}
	for _, tt := range tests {
		if got := Float(tt.v); got != tt.want {
			t.Errorf("Float(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
