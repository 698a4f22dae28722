package cmdutil

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/spf13/pflag"
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

// TestSamplesOrAutoFlag: --samples takes a count or "auto" where a command
// allows both; the last value given wins, and a bad one is refused in the
// user's words.
func TestSamplesOrAutoFlag(t *testing.T) {
	tests := []struct {
		args     []string
		wantN    int
		wantAuto bool
		wantErr  string
	}{
		{nil, 30, false, ""},
		{[]string{"--samples", "50"}, 50, false, ""},
		{[]string{"--samples", "auto"}, 30, true, ""},
		{[]string{"--samples", "auto", "--samples", "40"}, 40, false, ""},
		{[]string{"--samples", "40", "--samples=auto"}, 40, true, ""},
		{[]string{"--samples", "many"}, 30, false, `--samples "many": give a whole number, such as 30, or auto`},
		{[]string{"--samples", "Auto"}, 30, false, `--samples "Auto": give a whole number, such as 30, or auto`},
	}
	for _, tt := range tests {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var n int
		var auto bool
		SamplesOrAutoFlag(fs, &n, &auto, 30, "cold starts: `N` or auto")
		err := fs.Parse(tt.args)
		switch {
		case tt.wantErr != "":
			if err == nil || FlagError(err).Error() != tt.wantErr {
				t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		case err != nil:
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if n != tt.wantN || auto != tt.wantAuto {
			t.Errorf("%v: n %d auto %v, want %d %v", tt.args, n, auto, tt.wantN, tt.wantAuto)
		}
		if want := map[bool]string{false: strconv.Itoa(tt.wantN), true: "auto"}[tt.wantAuto]; fs.Lookup("samples").Value.String() != want {
			t.Errorf("%v: value %q, want %q", tt.args, fs.Lookup("samples").Value.String(), want)
		}
	}
	// The default shows in help as the count.
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var n int
	var auto bool
	SamplesOrAutoFlag(fs, &n, &auto, 30, "cold starts: `N` or auto")
	if f := fs.Lookup("samples"); f.DefValue != "30" {
		t.Errorf("default %q, want 30", f.DefValue)
	}
}
