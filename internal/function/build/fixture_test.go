package build

import (
	"os"
	"path/filepath"
	"testing"
)

// goFunction is a complete Lambda function with no dependencies: it speaks
// the Runtime API with net/http and echoes each event back.
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
		out := append(append([]byte("{\"echo\":"), event...), '}')
		r, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(out))
		if err != nil {
			os.Exit(1)
		}
		r.Body.Close()
	}
}
`

// writeFiles writes files (slash paths relative to dir) into dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const goMod = "module example.com/fn\n\ngo 1.22\n"

// rustFunction reads an event as JSON with serde_json (a real dependency,
// resolved offline from Debian's crates) and prints it back.
var rustFiles = map[string]string{
	"Cargo.toml": `[package]
name = "rusty"
version = "0.1.0"
edition = "2021"

[dependencies]
serde_json = "1"
`,
	"src/main.rs": `fn main() {
    let v: serde_json::Value = serde_json::from_str("{\"ok\":true}").unwrap();
    println!("{}", v);
}
`,
}
