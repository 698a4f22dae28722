package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file that appears in the destination while new writes is neither
// replaced nor lost, the error names it, and what was moved goes back.
func TestMoveIntoRefusesAnAppearedFile(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for _, name := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte("new "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dst, "b"), []byte("user's b"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := moveInto(src, dst)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dst, "b")+" appeared while writing") {
		t.Fatalf("err = %v, want one naming %s", err, filepath.Join(dst, "b"))
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "b")); string(got) != "user's b" {
		t.Errorf("the user's file was changed: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dst, "a")); err == nil {
		t.Errorf("a was left in %s; every moved entry should go back", dst)
	}
	for _, name := range []string{"a", "b", "c"} {
		if _, err := os.Stat(filepath.Join(src, name)); err != nil {
			t.Errorf("%s is not back in the source: %v", name, err)
		}
	}
}
