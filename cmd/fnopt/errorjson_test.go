package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/schematest"
)

// TestErrorDocument: every command asked for JSON that fails before its
// own report prints the fnopt.error/v1 document on stdout, valid against
// its schema, with the exit status fnopt ends with, and keeps the one line
// on stderr; without JSON, stdout stays empty.
func TestErrorDocument(t *testing.T) {
	schema := schematest.Load(t, filepath.Join("..", "cmdutil", "error.v1.schema.json"))
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"build of a missing folder", []string{"build", missing, "--json"}, 2},
		{"build with a bad architecture", []string{"build", missing, "--arch", "sparc", "--json"}, 2},
		{"build with an unknown flag", []string{"build", "--json", "--no-such-flag"}, 2},
		{"verify of a missing target", []string{"verify", missing, "--json"}, 2},
		{"verify with zero samples", []string{"verify", missing, "--samples", "0", "--json"}, 2},
		{"gate as JSON with two comparisons", []string{"verify", missing, "--format", "json", "--against", "HEAD", "--baseline", "b.json"}, 2},
		{"optimize of a missing folder", []string{"optimize", missing, "--json"}, 2},
		{"optimize image of a missing layout", []string{"optimize", "image", "oci:" + missing, "--to", "oci:" + missing + "-slim", "--json"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runStreams(t, tt.args)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			schema.Validate(t, []byte(stdout))
			var doc struct {
				Error struct {
					Message    string `json:"message"`
					ExitStatus int    `json:"exit_status"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
			}
			if doc.Error.ExitStatus != code {
				t.Errorf("the document says exit status %d, fnopt exited %d", doc.Error.ExitStatus, code)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if last := lines[len(lines)-1]; last != "fnopt: "+doc.Error.Message {
				t.Errorf("stderr ends with %q, the document says %q", last, doc.Error.Message)
			}

			// The same failure without JSON: the line on stderr only.
			var plain []string
			for _, a := range tt.args {
				if a != "--json" {
					plain = append(plain, a)
				}
			}
			for i, a := range plain {
				if a == "json" && i > 0 && plain[i-1] == "--format" { // the gate's JSON
					plain[i] = "text"
				}
			}
			code2, stdout2, stderr2 := runStreams(t, plain)
			if code2 != code || stdout2 != "" || stderr2 != stderr {
				t.Errorf("without JSON: exit %d, stdout %q, stderr %q; want %d, nothing, %q", code2, stdout2, stderr2, code, stderr)
			}
		})
	}

	// The schema is strict enough to catch a broken document.
	for _, bad := range []string{
		`{"schema":"fnopt.error/v1","fnopt_version":"v1.0.0","error":{"message":"x","kind":"failure","exit_status":2}}`,
		`{"schema":"fnopt.error/v1","fnopt_version":"v1.0.0","error":{"message":"x","kind":"error","exit_status":2,"extra":1}}`,
		`{"schema":"fnopt.error/v1","error":{"message":"x","kind":"error","exit_status":2}}`,
	} {
		if schema.Check([]byte(bad)) == nil {
			t.Errorf("validates: %s", bad)
		}
	}
}
