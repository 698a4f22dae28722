package build

import "github.com/fnopt/fnopt/internal/testenv"

// goFunction is a complete Lambda function with no dependencies.
var goFunction = testenv.EchoFunction()

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
