package verify

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadEventFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		create        bool
		wantErr       string
		wantNotJSON   bool // the error is ErrEventNotJSON
	}{
		{name: "object", content: `{"a":1}`, create: true},
		{name: "array", content: `[1, 2]`, create: true},
		{name: "string", content: `"x"`, create: true},
		{name: "truncated", content: `{"a":`, create: true, wantErr: "not valid JSON", wantNotJSON: true},
		{name: "empty", content: ``, create: true, wantErr: "not valid JSON", wantNotJSON: true},
		{name: "missing", wantErr: "reading the event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if tt.create {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadEventFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if errors.Is(err, ErrEventNotJSON) != tt.wantNotJSON {
					t.Errorf("errors.Is(%v, ErrEventNotJSON) = %v, want %v", err, !tt.wantNotJSON, tt.wantNotJSON)
				}
				return
			}
			if err != nil || string(got) != tt.content {
				t.Fatalf("got %q, %v; want %q", got, err, tt.content)
			}
		})
	}
}
