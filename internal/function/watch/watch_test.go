package watch

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestWatch: a burst of edits is one change listing the files; edits in
// dist/, target/, .git/ and editor temporary files are none; a folder
// created after the watch began is watched too.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"internal/x", "dist", "target/release", ".git"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w, err := New(dir, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	write := func(rel string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	next := func() []string {
		t.Helper()
		select {
		case files := <-w.Changes:
			return files
		case err := <-w.Errors:
			t.Fatalf("watch error: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no change reported within 10 s")
		}
		return nil
	}

	tests := []struct {
		name  string
		edits []string
		want  []string
	}{
		{"a burst is one change", []string{"main.go", "internal/x/x.go", "main.go"}, []string{"internal/x/x.go", "main.go"}},
		{"build output, git and editor files are ignored", []string{"dist/bootstrap", "target/release/bootstrap", ".git/index", "main.go~", ".main.go.swp", "go.mod"}, []string{"go.mod"}},
	}
	for _, tt := range tests {
		for _, e := range tt.edits {
			write(e)
		}
		if got := next(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}

	// A temporary file renamed onto the real one (sed -i, many editors)
	// is a change of the real file only.
	write("main.go.tmp1234")
	if err := os.Rename(filepath.Join(dir, "main.go.tmp1234"), filepath.Join(dir, "main.go")); err != nil {
		t.Fatal(err)
	}
	if got := next(); !reflect.DeepEqual(got, []string{"main.go"}) {
		t.Errorf("rename onto main.go: got %q", got)
	}

	// A new folder: its creation is a change, and then so are its files.
	if err := os.Mkdir(filepath.Join(dir, "newpkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := next(); !reflect.DeepEqual(got, []string{"newpkg"}) {
		t.Errorf("new folder: got %q", got)
	}
	write("newpkg/a.go")
	if got := next(); !reflect.DeepEqual(got, []string{"newpkg/a.go"}) {
		t.Errorf("file in a new folder: got %q", got)
	}
}
