package buildcmd

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/internal/function/settings"
)

var rustProject = map[string]string{
	"go.mod":      "",
	"main.go":     "",
	"fnopt.yaml":  "name: rusty\nlanguage: rust\narch: x86_64\npackage: zip\n",
	"Cargo.toml":  "[package]\nname = \"rusty\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde_json = \"1\"\n",
	"src/main.rs": "fn main() {\n    let v: serde_json::Value = serde_json::from_str(\"{}\").unwrap();\n    println!(\"{}\", v);\n}\n",
}

func TestBuildRust(t *testing.T) {
	if settings.HostArch() != settings.X86_64 {
		t.Skip("the Rust fixture is built natively for x86_64")
	}
	for _, kv := range testenv.CargoEnv(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := project(t, rustProject)

	// arm64 without its toolchain: the install commands, nothing built.
	if code, _, errOut := run(t, dir, "--arch", "arm64"); code == 0 {
		t.Log("the aarch64 Rust toolchain is installed here: arm64 built")
	} else if !strings.Contains(errOut, "rustup target add aarch64-unknown-linux-gnu") && !strings.Contains(errOut, "apt-get install gcc-aarch64-linux-gnu") {
		t.Errorf("arm64 error does not say what to install:\n%s", errOut)
	} else if _, err := os.Stat(filepath.Join(dir, "target")); err == nil {
		t.Error("target/ exists: cargo ran before the toolchain check")
	}

	r := buildJSON(t, dir)
	if r.Language != "rust" || r.Arch != "x86_64" || r.Settings.Package != "rusty" || !strings.Contains(r.Settings.Command, "cargo build --release --target x86_64-unknown-linux-gnu") {
		t.Errorf("report %+v", r)
	}

	// An image on no base: the bootstrap is linked statically (there is
	// no libc in the image), so the image passes the compliance check.
	code, out, errOut := run(t, dir, "--package", "image", "--json")
	if code != 0 {
		t.Fatalf("Rust image on no base: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "crt-static") {
		t.Errorf("the image's bootstrap was not built with crt-static:\n%s", out)
	}
	f, err := elf.Open(filepath.Join(dir, "dist", "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the bootstrap of a scratch image asks for a dynamic loader")
		}
	}
}
