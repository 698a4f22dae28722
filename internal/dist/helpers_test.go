package dist

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// goFunction is a dependency-free Lambda function (Runtime API over
// net/http), so fixtures build offline and fast.
const goFunction = `package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := http.Get(api + "next")
		if err != nil {
			os.Exit(1)
		}
		event, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		r, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(event))
		if err != nil {
			os.Exit(1)
		}
		r.Body.Close()
	}
}
`

const fnoptYAML = "name: hello\nlanguage: go\narch: arm64\npackage: zip\n"

// project writes a Go function project into a new folder; files add to
// or replace the defaults, and "" removes one.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	all := map[string]string{"go.mod": "module example.com/hello\n\ngo 1.22\n", "main.go": goFunction, "fnopt.yaml": fnoptYAML}
	for k, v := range files {
		all[k] = v
	}
	for name, data := range all {
		if data == "" {
			continue
		}
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), data)
	}
	return dir
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

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
