package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

func TestHandler(t *testing.T) {
	sample, err := os.ReadFile("testdata/event.json") // a real EventBridge event
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, event, want string
		err               error
	}{
		{"by name", `{"name": "Lambda"}`, "Hello, Lambda!", nil},
		{"an AWS event has no name", string(sample), "Hello, world!", nil},
		{"empty name", `{"name": ""}`, "", InvalidName{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req Request
			if err := json.Unmarshal([]byte(tc.event), &req); err != nil {
				t.Fatal(err)
			}
			got, err := handler(context.Background(), req)
			if !errors.Is(err, tc.err) || got.Message != tc.want {
				t.Errorf("handler = %q, %v; want %q, %v", got.Message, err, tc.want, tc.err)
			}
		})
	}
}
