package dist

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

var rustProject = map[string]string{
	"go.mod":      "",
	"main.go":     "",
	"fnopt.yaml":  "name: rusty\nlanguage: rust\narch: x86_64\npackage: zip\n",
	"Cargo.toml":  "[package]\nname = \"rusty\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nserde_json = \"1\"\n",
	"src/main.rs": "fn main() {\n    let v: serde_json::Value = serde_json::from_str(\"{}\").unwrap();\n    println!(\"{}\", v);\n}\n",
}

func TestProduceRust(t *testing.T) {
	if settings.HostArch() != settings.X86_64 {
		t.Skip("the Rust fixture is built natively for x86_64")
	}
	env := testenv.CargoEnv(t)
	dir := project(t, rustProject)
	ctx := context.Background()

	// arm64 without its toolchain: the install commands, nothing built.
	var log strings.Builder
	if _, err := Produce(ctx, dir, Options{Arch: settings.ARM64, Env: env, Log: &log}); err == nil {
		t.Log("the aarch64 Rust toolchain is installed here: arm64 built")
	} else if msg := err.Error() + log.String(); !strings.Contains(msg, "rustup target add aarch64-unknown-linux-gnu") && !strings.Contains(msg, "apt-get install gcc-aarch64-linux-gnu") {
		t.Errorf("the arm64 error does not say what to install:\n%s", msg)
	} else if _, err := os.Stat(filepath.Join(dir, "target")); err == nil {
		t.Error("target/ exists: cargo ran before the toolchain check")
	}

	res, err := Produce(ctx, dir, Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if res.Arch != settings.X86_64 || res.Compiled != "rusty" || !strings.Contains(res.Command, "cargo build --release --target x86_64-unknown-linux-gnu") {
		t.Errorf("result %+v", res)
	}

	// An image on no base: the bootstrap is linked statically (there is
	// no libc in the image), so the image passes the compliance check.
	res, err = Produce(ctx, dir, Options{Package: "image", Env: env})
	if err != nil {
		t.Fatalf("Rust image on no base: %v", err)
	}
	if !strings.Contains(res.Command, "crt-static") {
		t.Errorf("the image's bootstrap was not built with crt-static: %s", res.Command)
	}
	f, err := elf.Open(res.Bootstrap.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if testenv.HasInterp(f) {
		t.Error("the bootstrap of a scratch image asks for a dynamic loader")
	}

	// A zip linked statically: by fnopt.yaml's build.link, or by a caller
	// (verify) that measures what a scratch image ships.
	static := map[string]string{}
	for k, v := range rustProject {
		static[k] = v
	}
	static["fnopt.yaml"] += "build:\n  link: static\n"
	for name, tc := range map[string]struct {
		dir  string
		opts Options
	}{
		"build.link static": {project(t, static), Options{Env: env}},
		"Options.Static":    {dir, Options{Env: env, Static: true}},
	} {
		res, err := Produce(ctx, tc.dir, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f, err := elf.Open(res.Bootstrap.Path)
		if err != nil {
			t.Fatal(err)
		}
		if testenv.HasInterp(f) || !strings.Contains(res.Command, "crt-static") {
			t.Errorf("%s: the zip's bootstrap is not static (%s)", name, res.Command)
		}
		f.Close()
	}
}
