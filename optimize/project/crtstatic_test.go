package project

import (
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/templates"
)

const (
	rustCargo = "[package]\nname = \"f\"\nversion = \"0.1.0\"\n\n[profile.release]\nopt-level = \"s\"\nlto = true\ncodegen-units = 1\npanic = \"abort\"\nstrip = true\n"
	// rustBuild builds for arm64 with --release: no other finding.
	rustBuild = "cargo build --release --target aarch64-unknown-linux-gnu"
	// staticFlag is settings.RustStaticRustflags as a RUSTFLAGS value.
	staticFlag = "-C target-feature=+crt-static"
)

// rustProject is a Rust function built by the files given.
func rustProject(files map[string]string) map[string]string {
	out := map[string]string{"Cargo.toml": rustCargo, "src/main.rs": "fn main() {}\n"}
	for k, v := range files {
		out[k] = v
	}
	return out
}

// TestRustStaticGlibc: +crt-static is found wherever cargo reads rustc
// flags from in the project's build files, and taken out with the other
// flags kept; where static glibc is required (an image on no base) or
// chosen in fnopt.yaml there is no finding.
func TestRustStaticGlibc(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		status string // "" when there must be no finding
		line   int    // of the first evidence
		file   string // the file the edits change
		want   string // its content after --apply
		reason string // in Blocked or Manual
	}{
		{name: "RUSTFLAGS before cargo build in a script",
			files:  map[string]string{"build.sh": "#!/bin/sh\nset -e\nRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n"},
			status: "apply", line: 3, file: "build.sh",
			want: "#!/bin/sh\nset -e\nRUSTFLAGS=\"\" " + rustBuild + "\n"},
		{name: "joined -Ctarget-feature among other flags",
			files:  map[string]string{"build.sh": "#!/bin/sh\nRUSTFLAGS=\"-C link-arg=-s -Ctarget-feature=+crt-static\" " + rustBuild + "\n"},
			status: "apply", line: 2, file: "build.sh",
			want: "#!/bin/sh\nRUSTFLAGS=\"-C link-arg=-s\" " + rustBuild + "\n"},
		{name: "exported in a script",
			files:  map[string]string{"build.sh": "#!/bin/sh\nexport RUSTFLAGS='" + staticFlag + " -C target-cpu=neoverse-n1'\n" + rustBuild + "\n"},
			status: "apply", line: 2, file: "build.sh",
			want: "#!/bin/sh\nexport RUSTFLAGS='-C target-cpu=neoverse-n1'\n" + rustBuild + "\n"},
		{name: "Makefile RUSTFLAGS ?= with another feature",
			files:  map[string]string{"Makefile": "RUSTFLAGS ?= -C target-feature=+crt-static,+lse -C link-arg=-s\nexport RUSTFLAGS\n\nbuild:\n\t" + rustBuild + "\n"},
			status: "apply", line: 1, file: "Makefile",
			want: "RUSTFLAGS ?= -C target-feature=+lse -C link-arg=-s\nexport RUSTFLAGS\n\nbuild:\n\t" + rustBuild + "\n"},
		{name: "Makefile variable passed as RUSTFLAGS, as fnopt new --link static writes",
			files:  map[string]string{"Makefile": "CARGO ?= cargo\nTUNED_RUSTFLAGS ?= " + staticFlag + "\n\nbuild:\n\tRUSTFLAGS=\"$(TUNED_RUSTFLAGS)\" $(CARGO) build --release --target aarch64-unknown-linux-gnu\n"},
			status: "apply", line: 5, file: "Makefile",
			want: "CARGO ?= cargo\nTUNED_RUSTFLAGS ?=\n\nbuild:\n\tRUSTFLAGS=\"$(TUNED_RUSTFLAGS)\" $(CARGO) build --release --target aarch64-unknown-linux-gnu\n"},
		{name: "Makefile flag both written and through a variable",
			files:  map[string]string{"Makefile": "EXTRA := " + staticFlag + "\nRUSTFLAGS := $(EXTRA) -Ctarget-feature=+crt-static -C link-arg=-s\nexport RUSTFLAGS\nbuild:\n\t" + rustBuild + "\n"},
			status: "apply", line: 2, file: "Makefile",
			want: "EXTRA :=\nRUSTFLAGS := $(EXTRA) -C link-arg=-s\nexport RUSTFLAGS\nbuild:\n\t" + rustBuild + "\n"},
		{name: "Dockerfile on provided:al2023",
			files: map[string]string{"Dockerfile": "FROM rust:1.95 AS build\nENV RUSTFLAGS=\"" + staticFlag + "\"\nRUN " + rustBuild + "\n" +
				"FROM public.ecr.aws/lambda/provided:al2023\nCOPY --from=build /target/aarch64-unknown-linux-gnu/release/bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap\n"},
			status: "apply", line: 2, file: "Dockerfile",
			want: "FROM rust:1.95 AS build\nENV RUSTFLAGS=\"\"\nRUN " + rustBuild + "\n" +
				"FROM public.ecr.aws/lambda/provided:al2023\nCOPY --from=build /target/aarch64-unknown-linux-gnu/release/bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap\n"},
		{name: ".cargo/config.toml [build] rustflags, only the flag",
			files:  map[string]string{".cargo/config.toml": "[build]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n"},
			status: "apply", line: 2, file: ".cargo/config.toml",
			want: "[build]\nrustflags = []\n"},
		{name: ".cargo/config.toml target rustflags over several lines",
			files:  map[string]string{".cargo/config.toml": "[target.aarch64-unknown-linux-gnu]\nlinker = \"aarch64-linux-gnu-gcc\"\nrustflags = [\n  \"-C\", \"target-feature=+crt-static\",  # static glibc\n  \"-C\", \"link-arg=-s\",\n]\n"},
			status: "apply", line: 3, file: ".cargo/config.toml",
			want: "[target.aarch64-unknown-linux-gnu]\nlinker = \"aarch64-linux-gnu-gcc\"\nrustflags = [\n  \"-C\", \"link-arg=-s\",\n]\n"},
		{name: ".cargo/config.toml joined element last, with a trailing comma",
			files:  map[string]string{".cargo/config.toml": "[build]\nrustflags = [\"-C\", \"link-arg=-s\", '-Ctarget-feature=+crt-static',]\n"},
			status: "apply", line: 2, file: ".cargo/config.toml",
			want: "[build]\nrustflags = [\"-C\", \"link-arg=-s\",]\n"},
		{name: ".cargo/config.toml feature list",
			files:  map[string]string{".cargo/config.toml": "[build]\nrustflags = [\"-C\", \"target-feature=+lse,+crt-static\"]\n"},
			status: "apply", line: 2, file: ".cargo/config.toml",
			want: "[build]\nrustflags = [\"-C\", \"target-feature=+lse\"]\n"},
		{name: ".cargo/config.toml rustflags as one string",
			files:  map[string]string{".cargo/config.toml": "build.rustflags = \"" + staticFlag + " -C link-arg=-s\"\n"},
			status: "apply", line: 1, file: ".cargo/config.toml",
			want: "build.rustflags = \"-C link-arg=-s\"\n"},
		{name: ".cargo/config, the old name",
			files:  map[string]string{".cargo/config": "[target.'cfg(target_os = \"linux\")']\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n"},
			status: "apply", line: 2, file: ".cargo/config",
			want: "[target.'cfg(target_os = \"linux\")']\nrustflags = []\n"},
		{name: "inline table in .cargo/config.toml is by hand",
			files:  map[string]string{".cargo/config.toml": "build = { rustflags = [\"-C\", \"target-feature=+crt-static\"] }\n"},
			status: "by-hand", reason: `take "-C", "target-feature=+crt-static" out of build.rustflags in .cargo/config.toml`},
		{name: "flag given to cargo on the command line is by hand",
			files:  map[string]string{"build.sh": "#!/bin/sh\n" + rustBuild + " --config 'build.rustflags=[\"-C\", \"target-feature=+crt-static\"]'\n"},
			status: "by-hand", line: 2, reason: "take target-feature=+crt-static out of the cargo command at build.sh:2"},
		{name: "RUSTFLAGS from a variable defined twice is by hand",
			files: map[string]string{"Makefile": "ifeq ($(ARCH),arm64)\nEXTRA = " + staticFlag + "\nelse\nEXTRA = " + staticFlag + " -C target-cpu=x86-64-v2\nendif\nbuild:\n\tRUSTFLAGS=\"$(EXTRA)\" " + rustBuild + "\n" +
				"# the flag comes through EXTRA, which make chooses\nRUSTFLAGS = $(EXTRA) -C link-arg=-s\n"},
			status: "by-hand", reason: "built from variables fnopt cannot edit safely"},
		{name: "image on an empty base needs static glibc",
			files: map[string]string{"Dockerfile": "FROM rust:1.95 AS build\nRUN RUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n" +
				"FROM scratch\nCOPY --from=build /target/aarch64-unknown-linux-gnu/release/bootstrap /bootstrap\nENTRYPOINT [\"/bootstrap\"]\n"}},
		{name: "image on another base is blocked",
			files: map[string]string{"Dockerfile": "FROM rust:1.95 AS build\nRUN RUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n" +
				"FROM debian:12-slim\nCOPY --from=build /target/aarch64-unknown-linux-gnu/release/bootstrap /bootstrap\n"},
			status: "blocked", line: 2, reason: "Dockerfile:3 FROM debian:12-slim"},
		{name: "SAM image without its Dockerfile is blocked",
			files: map[string]string{"build.sh": "#!/bin/sh\nRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n",
				"template.yaml": "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      Architectures: [arm64]\n"},
			status: "blocked", line: 2, reason: "template.yaml declares F as PackageType: Image"},
		{name: "fnopt.yaml chooses static",
			files: map[string]string{"fnopt.yaml": "name: f\nlanguage: rust\narch: arm64\npackage: zip\nbuild:\n  link: static\n",
				"build.sh": "#!/bin/sh\nRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n"}},
		{name: "fnopt.yaml says dynamic, the script builds static",
			files: map[string]string{"fnopt.yaml": "name: f\nlanguage: rust\narch: arm64\npackage: zip\nbuild:\n  link: dynamic\n",
				"build.sh": "#!/bin/sh\nRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n"},
			status: "apply", line: 2, file: "build.sh", want: "#!/bin/sh\nRUSTFLAGS=\"\" " + rustBuild + "\n"},
		{name: "fnopt.yaml package image: fnopt links it statically",
			files: map[string]string{"fnopt.yaml": "name: f\nlanguage: rust\narch: arm64\npackage: image\n",
				"build.sh": "#!/bin/sh\nRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n"}},
		{name: "dynamic build",
			files: map[string]string{"build.sh": "#!/bin/sh\nRUSTFLAGS=\"-C target-feature=-crt-static -C target-cpu=neoverse-n1\" " + rustBuild + "\n",
				".cargo/config.toml": "[build]\nrustflags = [\"-C\", \"target-feature=+lse\"]\n# rustflags = [\"-C\", \"target-feature=+crt-static\"]\n"}},
		{name: "musl target",
			files: map[string]string{".cargo/config.toml": "[target.x86_64-unknown-linux-musl]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n",
				"build.sh": "#!/bin/sh\nCARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n"}},
		{name: "a .cargo folder used as CARGO_HOME is not read",
			files: map[string]string{".cargo/registry/src/x/build.sh": "#!/bin/sh\nRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n"}},
		{name: "Go project",
			files: map[string]string{"Cargo.toml": "", "src/main.rs": "", "go.mod": goMod, "main.go": "package main\nfunc main() {}\n",
				"Makefile": "build:\n\tGOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap .\n" +
					"\tRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := rustProject(tt.files)
			if tt.name == "Go project" {
				files = tt.files
			}
			dir := write(t, files)
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			var f *Finding
			for i := range plan.Findings {
				switch id := plan.Findings[i].ID; {
				case id == "rust-static-glibc":
					f = &plan.Findings[i]
				case tt.status == "apply":
					t.Errorf("other finding %s: %+v", id, plan.Findings[i])
				}
			}
			if tt.status == "" {
				if f != nil {
					t.Fatalf("finding %+v, want none", *f)
				}
				return
			}
			if f == nil {
				t.Fatalf("no rust-static-glibc finding in %+v", plan.Findings)
			}
			if f.Status != tt.status || tt.line != 0 && f.Evidence[0].Line != tt.line {
				t.Errorf("status %s at line %d, want %s at %d: %+v", f.Status, f.Evidence[0].Line, tt.status, tt.line, *f)
			}
			if tt.reason != "" && !strings.Contains(f.Blocked+f.Manual, tt.reason) {
				t.Errorf("blocked %q, manual %q: want %q", f.Blocked, f.Manual, tt.reason)
			}
			if f.Effect != rustStaticEffect {
				t.Errorf("effect %q", f.Effect)
			}
			before := checksum(t, dir)
			if _, err := Apply(plan, OSWriter{}); err != nil {
				t.Fatal(err)
			}
			if tt.status != "apply" {
				if checksum(t, dir) != before {
					t.Error("a finding that is not applied changed files")
				}
				return
			}
			got, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("%s after --apply:\n%s\nwant\n%s", tt.file, got, tt.want)
			}
			if strings.HasPrefix(tt.file, ".cargo/") {
				checkCargoConfig(t, got)
			}
			again, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Findings) != 0 {
				t.Errorf("findings after --apply: %+v", again.Findings)
			}
		})
	}
}

// checkCargoConfig parses an edited cargo configuration again: valid
// TOML, and no rustflags with crt-static.
func checkCargoConfig(t *testing.T, src []byte) {
	t.Helper()
	c, err := parseCargoConfig("config.toml", src)
	if err != nil {
		t.Fatalf("edited file: %v\n%s", err, src)
	}
	if keys := c.staticKeys(); len(keys) > 0 {
		t.Errorf("still static: %q\n%s", keys, src)
	}
	var doc map[string]any
	if err := toml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
}

// TestRustStaticEditsRun runs the edited build files with a cargo that
// prints the RUSTFLAGS it gets: the shell and make still read them, the
// other flags stay, and an emptied RUSTFLAGS stays set (cargo would
// otherwise turn to .cargo/config.toml's rustflags, which it ignored).
func TestRustStaticEditsRun(t *testing.T) {
	shPath, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	makePath, _ := exec.LookPath("make")
	tests := []struct {
		name, file, src string
		run             []string
		want            string
	}{
		{"script prefix", "build.sh", "#!/bin/sh\nRUSTFLAGS=\"" + staticFlag + "\" " + rustBuild + "\n", []string{shPath, "build.sh"}, "RUSTFLAGS=[]"},
		{"script export", "build.sh", "#!/bin/sh\nexport RUSTFLAGS='" + staticFlag + " -C target-cpu=neoverse-n1'\n" + rustBuild + "\n",
			[]string{shPath, "build.sh"}, "RUSTFLAGS=[-C target-cpu=neoverse-n1]"},
		{"Makefile exported variable", "Makefile", "RUSTFLAGS ?= -C link-arg=-s " + staticFlag + "\nexport RUSTFLAGS\nbuild:\n\t@" + rustBuild + "\n",
			[]string{makePath, "-s", "build"}, "RUSTFLAGS=[-C link-arg=-s]"},
		{"Makefile variable as RUSTFLAGS", "Makefile", "TUNED_RUSTFLAGS ?= " + staticFlag + "\nbuild:\n\t@RUSTFLAGS=\"$(TUNED_RUSTFLAGS)\" " + rustBuild + "\n",
			[]string{makePath, "-s", "build"}, "RUSTFLAGS=[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.run[0] == "" {
				t.Skip("no make")
			}
			dir := write(t, rustProject(map[string]string{tt.file: tt.src,
				"bin/cargo": "#!/bin/sh\necho \"RUSTFLAGS=[${RUSTFLAGS-unset}]\"\n"}))
			if err := os.Chmod(filepath.Join(dir, "bin/cargo"), 0o755); err != nil {
				t.Fatal(err)
			}
			run := func() string {
				cmd := exec.Command(tt.run[0], tt.run[1:]...)
				cmd.Dir = dir
				cmd.Env = []string{"PATH=" + filepath.Join(dir, "bin") + ":/usr/bin:/bin", "HOME=" + dir}
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				return strings.TrimSpace(string(out))
			}
			if got := run(); !strings.Contains(got, "+crt-static") {
				t.Fatalf("before the edit cargo got %q: the test proves nothing", got)
			}
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Apply(plan, OSWriter{}); err != nil {
				t.Fatal(err)
			}
			if got := run(); got != tt.want {
				t.Errorf("after the edit cargo got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNewStaticProject: a project `fnopt new --link static` writes builds
// static glibc on purpose and says so in fnopt.yaml: no finding. Without
// that line (or with dynamic) the Makefile's TUNED_RUSTFLAGS is the
// finding, and once applied make builds without the flag.
func TestNewStaticProject(t *testing.T) {
	render := func(t *testing.T, link config.Link) string {
		files, err := templates.Render(templates.Options{Name: "x", Lang: "rust", Event: "raw", Arch: "x86_64", Package: "zip", Client: "minimal", Link: link})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := templates.Write(context.Background(), dir, files); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	static := func(plan *Plan) *Finding {
		for i := range plan.Findings {
			if plan.Findings[i].ID == "rust-static-glibc" {
				return &plan.Findings[i]
			}
		}
		return nil
	}
	tests := []struct {
		name  string
		link  config.Link
		edit  func(fnoptYAML string) string
		found bool
	}{
		{"dynamic, as fnopt new writes it", config.LinkDynamic, nil, false},
		{"static, as fnopt new --link static writes it", config.LinkStatic, nil, false},
		{"static Makefile, fnopt.yaml without build.link", config.LinkStatic,
			func(s string) string { return strings.Replace(s, "  link: static\n", "  bin: bootstrap\n", 1) }, true},
		{"static Makefile, fnopt.yaml saying dynamic", config.LinkStatic,
			func(s string) string { return strings.Replace(s, "link: static", "link: dynamic", 1) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := render(t, tt.link)
			if tt.edit != nil {
				p := filepath.Join(dir, "fnopt.yaml")
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				edited := tt.edit(string(b))
				if edited == string(b) {
					t.Fatal("fnopt.yaml not edited: the template changed")
				}
				if err := os.WriteFile(p, []byte(edited), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			f := static(plan)
			if (f != nil) != tt.found {
				t.Fatalf("rust-static-glibc %+v, want found %v", f, tt.found)
			}
			if !tt.found {
				return
			}
			if !f.Applicable() || f.Evidence[0].File != "Makefile" || !strings.Contains(f.Evidence[0].Text, "RUSTFLAGS") {
				t.Fatalf("finding %+v, want the Makefile's RUSTFLAGS, applicable", *f)
			}
			if _, err := Apply(plan, OSWriter{}); err != nil {
				t.Fatal(err)
			}
			again, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			if f := static(again); f != nil {
				t.Errorf("still found after --apply: %+v", *f)
			}
			if _, err := exec.LookPath("make"); err != nil {
				return
			}
			cmd := exec.Command("make", "-n", "build", "ARCH=x86_64")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), `RUSTFLAGS="" cargo build --release`) || strings.Contains(string(out), "crt-static") {
				t.Errorf("make -n build after --apply:\n%s", out)
			}
		})
	}
}

// TestRustStaticInJSON: the finding is in the plan's JSON with its id,
// status and edits.
func TestRustStaticInJSON(t *testing.T) {
	dir := write(t, rustProject(map[string]string{".cargo/config.toml": "[build]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n"}))
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Project  Project `json:"project"`
		Findings []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Edits  []Edit `json:"edits"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Findings) != 1 || doc.Findings[0].ID != "rust-static-glibc" || doc.Findings[0].Status != "apply" ||
		len(doc.Findings[0].Edits) != 1 || doc.Findings[0].Edits[0].File != ".cargo/config.toml" {
		t.Errorf("findings in JSON: %s", b)
	}
	found := false
	for _, bf := range doc.Project.Build {
		found = found || bf.File == ".cargo/config.toml" && bf.Kind == "cargo"
	}
	if !found {
		t.Errorf("build files %+v lack .cargo/config.toml", doc.Project.Build)
	}
}

// TestCargoConfigIsABuildFile: .cargo/config.toml is refused like the
// other build files when it is a link (or lives in a linked .cargo) or is
// not a file, and a malformed one, or a malformed fnopt.yaml, stops the
// analysis with one line saying what to do.
func TestCargoConfigIsABuildFile(t *testing.T) {
	staticConfig := "[build]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n"
	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name    string
			prepare func(t *testing.T, dir, outside string)
			file    string
			link    bool
		}{
			{"config.toml linked outside", func(t *testing.T, dir, outside string) {
				mustWrite(t, filepath.Join(outside, "config.toml"), staticConfig)
				mustSymlink(t, filepath.Join(outside, "config.toml"), filepath.Join(dir, ".cargo", "config.toml"))
			}, ".cargo/config.toml", true},
			{"config, the old name, linked", func(t *testing.T, dir, outside string) {
				mustWrite(t, filepath.Join(outside, "config"), staticConfig)
				mustSymlink(t, filepath.Join(outside, "config"), filepath.Join(dir, ".cargo", "config"))
			}, ".cargo/config", true},
			{".cargo linked outside", func(t *testing.T, dir, outside string) {
				mustWrite(t, filepath.Join(outside, "config.toml"), staticConfig)
				if err := os.Remove(filepath.Join(dir, ".cargo")); err != nil {
					t.Fatal(err)
				}
				mustSymlink(t, outside, filepath.Join(dir, ".cargo"))
			}, ".cargo", true},
			{"config.toml a folder", func(t *testing.T, dir, outside string) {
				if err := os.Mkdir(filepath.Join(dir, ".cargo", "config.toml"), 0o755); err != nil {
					t.Fatal(err)
				}
			}, ".cargo/config.toml", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// The build script's own finding would be applied without
				// the configuration the plan could not read.
				dir := write(t, rustProject(map[string]string{"build.sh": "#!/bin/sh\ncargo build --target aarch64-unknown-linux-gnu\n"}))
				outside := filepath.Join(filepath.Dir(dir), "outside")
				for _, d := range []string{outside, filepath.Join(dir, ".cargo")} {
					if err := os.MkdirAll(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				tt.prepare(t, dir, outside)
				before := checksum(t, filepath.Dir(dir))
				plan, err := Analyze(dir)
				if err != nil {
					t.Fatal(err)
				}
				var linkErr *LinkError
				var typeErr *FileTypeError
				switch {
				case tt.link && (!errors.As(plan.Refusal(), &linkErr) || linkErr.File != tt.file):
					t.Fatalf("Refusal() = %v, want a LinkError for %s", plan.Refusal(), tt.file)
				case !tt.link && (!errors.As(plan.Refusal(), &typeErr) || typeErr.File != tt.file):
					t.Fatalf("Refusal() = %v, want a FileTypeError for %s", plan.Refusal(), tt.file)
				}
				if len(plan.Applicable()) == 0 {
					t.Fatal("the plan has no applicable finding: the test proves nothing")
				}
				if _, err := Apply(plan, OSWriter{}); err == nil {
					t.Fatal("Apply succeeded, want the refusal")
				}
				if checksum(t, filepath.Dir(dir)) != before {
					t.Error("a refused plan changed files")
				}
				if len(plan.Skipped) != 1 || plan.Skipped[0].File != tt.file {
					t.Errorf("not understood: %+v, want %s", plan.Skipped, tt.file)
				}
			})
		}
	})
	t.Run("malformed", func(t *testing.T) {
		tests := []struct {
			name  string
			files map[string]string
			want  string
		}{
			{"config.toml", map[string]string{".cargo/config.toml": "[build\nrustflags = []\n"}, ".cargo/config.toml is not valid TOML"},
			{"fnopt.yaml", map[string]string{"fnopt.yaml": "name: f\nlanguage: rust\nbuild:\n  link: fully\n"}, "build.link \"fully\" is not a link"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := Analyze(write(t, rustProject(tt.files)))
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), ", then run fnopt optimize again") || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %v, want one line with %q and what to do", err, tt.want)
				}
			})
		}
	})
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestProofBuildsTheLinkage: the proof repeats the project's cargo build
// with the rustc flags of its build files (BuildFor), so before the plan
// the bootstrap is static and after it dynamic (it has a program
// interpreter): what --verify measures is the finding's change.
func TestProofBuildsTheLinkage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Rust six times")
	}
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"script prefix", map[string]string{"build.sh": "#!/bin/sh\nRUSTFLAGS=\"" + staticFlag + "\" cargo build --release\n"}},
		{"Makefile export", map[string]string{"Makefile": "RUSTFLAGS ?= " + staticFlag + "\nexport RUSTFLAGS\nbuild:\n\t" + rustBuild + "\n"}},
		{".cargo/config.toml", map[string]string{".cargo/config.toml": "[build]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n"}},
	}
	env := testenv.CargoEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, rustProject(tt.files))
			interp := func(dir string) bool {
				t.Helper()
				bin, err := BuildFor(context.Background(), dir, filepath.Join(t.TempDir(), "out"), settings.HostArch(), env)
				if err != nil {
					t.Fatal(err)
				}
				f, err := elf.Open(bin)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				return testenv.HasInterp(f)
			}
			if interp(dir) {
				t.Fatal("the bootstrap built before the plan is dynamic: the build's flags were not repeated")
			}
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			changes, err := plan.Changes()
			if err != nil || len(changes) != 1 {
				t.Fatalf("changes %v, %v; want one file", changes, err)
			}
			after := filepath.Join(t.TempDir(), "after")
			if err := CopyTree(dir, after, changes); err != nil {
				t.Fatal(err)
			}
			if !interp(after) {
				t.Error("the bootstrap built after the plan is still static")
			}
		})
	}
}

// TestCrtStaticCuts: the flag leaves a flags string with one blank
// between the flags that stay, and nothing else changes.
func TestCrtStaticCuts(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`"-C target-feature=+crt-static"`, `""`},
		{`-C target-feature=+crt-static`, ``},
		{`"-C link-arg=-s -C target-feature=+crt-static"`, `"-C link-arg=-s"`},
		{`'-Ctarget-feature=+crt-static -C link-arg=-s'`, `'-C link-arg=-s'`},
		{`-C a=1 -C target-feature=+crt-static -C b=2`, `-C a=1 -C b=2`},
		{`-C target-feature=+crt-static -C target-feature=+crt-static`, ``},
		{`-C target-feature=+crt-static	-C x=1 -Ctarget-feature=+crt-static`, `-C x=1`},
		{`-C target-feature=+lse,+crt-static,+aes`, `-C target-feature=+lse,+aes`},
		{`-C target-feature=-crt-static`, `-C target-feature=-crt-static`},
		{`x-C target-feature=+crt-static`, `x-C target-feature=+crt-static`},
		{`-C target-feature=+crt-static$(MORE)`, `-C target-feature=+crt-static$(MORE)`},
	}
	for _, tt := range tests {
		var edits []Edit
		for _, c := range crtStaticCuts(tt.raw) {
			edits = append(edits, Edit{Start: c.start, End: c.end, New: c.repl})
		}
		got, err := applyEdits([]byte(tt.raw), edits)
		if err != nil {
			t.Errorf("%q: %v", tt.raw, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%q → %q, want %q", tt.raw, got, tt.want)
		}
	}
}
