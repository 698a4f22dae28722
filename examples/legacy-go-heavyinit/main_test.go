package main

import (
	"context"
	"testing"
)

func TestHandle(t *testing.T) {
	tests := []struct {
		text    string
		allowed bool
		reply   string
	}{
		{"hello there", true, "ok"},
		{"you banned-term-0007!", false, "blocked by rule 7"},
	}
	for _, tt := range tests {
		v, err := handle(context.Background(), Message{Text: tt.text})
		if err != nil {
			t.Fatal(err)
		}
		if v.Allowed != tt.allowed || v.Reply != tt.reply {
			t.Errorf("handle(%q) = %+v, want allowed=%v reply=%q", tt.text, v, tt.allowed, tt.reply)
		}
	}
}
