package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Function is the main.go of a complete Lambda function in Go with no
// dependencies, so fixtures build offline and fast: it speaks the Runtime
// API with net/http and answers each event with answer(event). decls must
// declare `func answer(event []byte) []byte` and may declare more; imports
// are added to the file's own (bytes, io, net/http, os).
func Function(imports []string, decls string) string {
	var extra strings.Builder
	for _, imp := range imports {
		extra.WriteString("\n\t" + strconv.Quote(imp))
	}
	return `package main

import (
	"bytes"
	"io"
	"net/http"
	"os"` + extra.String() + `
)

` + decls + `

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
		r, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(answer(event)))
		if err != nil {
			os.Exit(1)
		}
		r.Body.Close()
	}
}
`
}

// EchoFunction is Function answering each event with the event itself.
func EchoFunction() string {
	return Function(nil, "func answer(event []byte) []byte { return event }")
}

// GoProjectFiles are the files of a Go function project around
// EchoFunction: go.mod, main.go and an fnopt.yaml for arm64 zips.
func GoProjectFiles() map[string]string {
	return map[string]string{
		"go.mod":     "module example.com/hello\n\ngo 1.22\n",
		"main.go":    EchoFunction(),
		"fnopt.yaml": "name: hello\nlanguage: go\narch: arm64\npackage: zip\n",
	}
}

// GoProject writes GoProjectFiles into a new folder and returns it; files
// add to or replace the defaults (slash paths), and "" removes one.
func GoProject(t testing.TB, files map[string]string) string {
	t.Helper()
	all := GoProjectFiles()
	for k, v := range files {
		all[k] = v
	}
	for name, data := range all {
		if data == "" {
			delete(all, name)
		}
	}
	dir := t.TempDir()
	WriteFiles(t, dir, all)
	return dir
}

// WriteFiles writes files (slash path → content) under dir, creating
// their folders.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		WriteFile(t, filepath.Join(dir, filepath.FromSlash(name)), data)
	}
}

// WriteFile writes data to path, creating its folder.
func WriteFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Fakefn builds verify's test function (verify/testdata/fakefn), whose
// behaviour is the name of its folder or FAKEFN_MODE, and returns the
// program's path. It is linked statically, so that it runs in an image
// with nothing else in it too.
func Fakefn(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not found: the test builds a function")
	}
	bin := filepath.Join(t.TempDir(), "fakefn")
	cmd := Command("", []string{"CGO_ENABLED=0"}, "go", "build", "-o", bin, "github.com/fnopt/fnopt/verify/testdata/fakefn")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building fakefn: %v\n%s", err, out)
	}
	return bin
}
