package dist

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/fnopt/fnopt/internal/testenv"
)

// project writes a Go function project (testenv.GoProject) into a new
// folder; files add to or replace the defaults, and "" removes one.
func project(t *testing.T, files map[string]string) string {
	return testenv.GoProject(t, files)
}

// writeFile writes data to path, creating its folder.
func writeFile(t *testing.T, path, data string) { testenv.WriteFile(t, path, data) }

// snapshot is a folder's tree: each path and its file's content, or "/"
// for a folder. Comparing two tells whether anything changed.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			m[rel] = "/"
			return nil
		}
		b, err := os.ReadFile(p)
		m[rel] = string(b)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return m
}

// sameTree reports the first difference between two snapshots, or "".
func sameTree(before, after map[string]string) string {
	for p, v := range before {
		if w, ok := after[p]; !ok {
			return p + " is gone"
		} else if w != v {
			return p + " changed"
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			return p + " appeared"
		}
	}
	return ""
}

// refused is an address nothing listens on: a port taken and released.
func refused(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
