package cmdutil

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSharedFlagErrors: the flags several commands share are refused in
// the same words by each.
func TestSharedFlagErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	event := func(p string) error { _, err := ReadEvent(p); return err }
	expect := func(s string) error { _, err := ParseExpect(s); return err }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"event not JSON", event(bad), "--event " + bad + " is not valid JSON"},
		{"event missing", event(missing), "reading --event: open " + missing + ": no such file or directory"},
		{"expect not JSON", expect("{x"), "--expect must be a JSON document or /regex/: invalid character 'x' looking for beginning of object key string"},
		{"expect bad regexp", expect("/(/"), "--expect /(/: error parsing regexp: missing closing ): `(`"},
		{"zero samples", CheckSamples(0), "--samples 0: measure at least 1"},
	}
	for _, tt := range tests {
		if tt.err == nil || tt.err.Error() != tt.want {
			t.Errorf("%s: %v, want %q", tt.name, tt.err, tt.want)
		}
	}
	for _, err := range []error{event(""), expect(""), CheckSamples(1)} {
		if err != nil {
			t.Errorf("an unset or valid value was refused: %v", err)
		}
	}
}
