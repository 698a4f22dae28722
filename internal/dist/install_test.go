package dist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The set is installed whole or not at all, whichever rename fails: every
// rename install makes is failed in turn, from every starting state, and
// the output folder must be exactly as it was.
func TestInstallAllOrNothing(t *testing.T) {
	set := []entry{{name: "bootstrap"}, {name: ZipName}, {name: imageDir, dir: true}}
	states := []struct {
		name string
		old  map[string]string // the output folder before: path → content, "/" a folder
	}{
		{"first build", nil},
		{"previous build", map[string]string{"bootstrap": "old bin", ZipName: "old zip", "image/index.json": "old index"}},
		{"previous build without an image", map[string]string{"bootstrap": "old bin", ZipName: "old zip"}},
		{"unrelated files", map[string]string{"notes.txt": "mine", ZipName: "old zip"}},
	}
	for _, st := range states {
		// How many renames a successful install makes: one per artifact
		// there before (aside) and one per artifact (in).
		total := len(set)
		for _, e := range set {
			for p := range st.old {
				if p == e.name || strings.HasPrefix(p, e.name+"/") {
					total++
					break
				}
			}
		}
		for fail := 0; fail <= total; fail++ {
			t.Run(fmt.Sprintf("%s/rename %d fails", st.name, fail), func(t *testing.T) {
				dst, stage := stagedSet(t, st.old)
				before := snapshot(t, dst)
				calls := 0
				rename := func(oldpath, newpath string) error {
					calls++
					if calls == fail+1 {
						return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: errors.New("injected failure")}
					}
					return os.Rename(oldpath, newpath)
				}
				err := install(stage, dst, set, rename)
				if fail == total {
					// No rename failed: every artifact is the new one.
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range []string{"bootstrap", ZipName, "image/index.json"} {
						if b, _ := os.ReadFile(filepath.Join(dst, p)); string(b) != "new "+p {
							t.Errorf("%s holds %q after a successful install", p, b)
						}
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), "injected failure") {
					t.Fatalf("install = %v, want the injected failure", err)
				}
				if d := sameTree(before, snapshot(t, dst)); d != "" {
					t.Errorf("after a failed install %s", d)
				}
			})
		}
	}
}

// When undoing fails too, the error says where the previous artifacts are,
// and they are there.
func TestInstallUndoFails(t *testing.T) {
	set := []entry{{name: "bootstrap"}, {name: ZipName}}
	dst, stage := stagedSet(t, map[string]string{"bootstrap": "old bin", ZipName: "old zip"})
	calls := 0
	// Aside, aside, in, then every rename fails: the zip cannot be
	// installed, nor the bootstrap taken back out.
	rename := func(oldpath, newpath string) error {
		if calls++; calls > 3 {
			return errors.New("disk gone")
		}
		return os.Rename(oldpath, newpath)
	}
	err := install(stage, dst, set, rename)
	var pe *partialInstallError
	if !errors.As(err, &pe) {
		t.Fatalf("install = %v, want a *partialInstallError", err)
	}
	old := filepath.Join(stage, "old")
	if !strings.Contains(err.Error(), "they are in "+old) || strings.Contains(err.Error(), "\n") {
		t.Errorf("message %q does not say, on one line, where the previous artifacts are", err)
	}
	for name, want := range map[string]string{"bootstrap": "old bin", ZipName: "old zip"} {
		if b, _ := os.ReadFile(filepath.Join(old, name)); string(b) != want {
			t.Errorf("%s/%s holds %q, want %q", old, name, b, want)
		}
	}
}

// A folder where a file artifact belongs is someone's, not a previous
// build's: install refuses it instead of deleting it with the staging
// folder, and leaves everything as it was.
func TestInstallRefusesWrongKind(t *testing.T) {
	cases := []struct {
		name string
		old  map[string]string
		want string
	}{
		{"folder as the zip", map[string]string{"bootstrap": "old bin", ZipName + "/keep": "mine"}, "it is a folder, not a file"},
		{"file as the image", map[string]string{"bootstrap": "old bin", imageDir: "mine"}, "it is a file, not a folder"},
	}
	set := []entry{{name: "bootstrap"}, {name: ZipName}, {name: imageDir, dir: true}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst, stage := stagedSet(t, c.old)
			before := snapshot(t, dst)
			err := install(stage, dst, set, os.Rename)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("install = %v, want %q", err, c.want)
			}
			if d := sameTree(before, snapshot(t, dst)); d != "" {
				t.Errorf("after a refused install %s", d)
			}
		})
	}
}

// stagedSet makes an output folder holding old and a staging folder
// holding a new bootstrap, zip and image ("new PATH" in each file). The
// staging folder is a sibling, not inside as Produce makes it, so that a
// snapshot of the output folder shows the artifacts only.
func stagedSet(t *testing.T, old map[string]string) (dst, stage string) {
	t.Helper()
	root := t.TempDir()
	dst, stage = filepath.Join(root, "dist"), filepath.Join(root, "stage")
	for _, d := range []string{dst, stage} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, data := range old {
		writeFile(t, filepath.Join(dst, p), data)
	}
	for _, p := range []string{"bootstrap", ZipName, "image/index.json"} {
		writeFile(t, filepath.Join(stage, p), "new "+p)
	}
	return dst, stage
}
