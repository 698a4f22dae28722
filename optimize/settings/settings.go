// Package settings is the one place where fnopt's tuned build settings live.
// The templates render them into new projects, `fnopt build` builds with
// them and `fnopt optimize` brings existing projects to them. Change a
// setting here and every command follows.
package settings

import (
	"debug/elf"
	"fmt"
	"runtime"
	"strings"
)

// Runtime is the Lambda runtime every fnopt function targets: the custom
// runtime on Amazon Linux 2023, the smallest and fastest-starting one.
const Runtime = "provided.al2023"

// Handler is the name Lambda's custom runtimes execute.
const Handler = "bootstrap"

// Arch is a Lambda architecture, spelled as Lambda spells it.
type Arch string

const (
	ARM64  Arch = "arm64"
	X86_64 Arch = "x86_64"
)

// DefaultArch is arm64: Graviton functions cost about 20% less per
// GB-second and start at least as fast as x86_64 ones.
const DefaultArch = ARM64

// ParseArch accepts Lambda's spelling and the Go/OCI aliases.
func ParseArch(s string) (Arch, error) {
	switch strings.ToLower(s) {
	case "arm64", "aarch64":
		return ARM64, nil
	case "x86_64", "amd64", "x86-64":
		return X86_64, nil
	}
	return "", fmt.Errorf("unknown architecture %q: use arm64 or x86_64", s)
}

// HostArch is the architecture of the machine fnopt runs on.
func HostArch() Arch {
	if runtime.GOARCH == "arm64" {
		return ARM64
	}
	return X86_64
}

// GOARCH is the Go name of the architecture; it is also the OCI platform
// architecture.
func (a Arch) GOARCH() string {
	if a == ARM64 {
		return "arm64"
	}
	return "amd64"
}

// ELFMachine is the e_machine a binary for this architecture carries.
func (a Arch) ELFMachine() elf.Machine {
	if a == ARM64 {
		return elf.EM_AARCH64
	}
	return elf.EM_X86_64
}

// RustTarget is the Rust target triple fnopt builds for.
func (a Arch) RustTarget() string {
	if a == ARM64 {
		return "aarch64-unknown-linux-gnu"
	}
	return "x86_64-unknown-linux-gnu"
}

// RustLinker is the C linker cargo needs for the target when it is not the
// host's; empty when the host's own cc will do.
func (a Arch) RustLinker() string {
	if a == HostArch() {
		return ""
	}
	if a == ARM64 {
		return "aarch64-linux-gnu-gcc"
	}
	return "x86_64-linux-gnu-gcc"
}

// GoBuild is how a Go function is built.
type GoBuild struct {
	// Env is added to the environment of `go build`.
	Env []string
	// Flags go between `go build` and the package.
	Flags []string
}

// GoTags are the build tags: lambda.norpc drops aws-lambda-go's legacy
// net/rpc server, which only the retired go1.x runtime used.
const GoTags = "lambda.norpc"

// GoLdflags strip the symbol table and DWARF (-s -w) and the build ID, so
// the binary is smaller and reproducible.
const GoLdflags = "-s -w -buildid="

// Go returns the tuned Go build for arch: a static (CGO_ENABLED=0),
// stripped, reproducible (-trimpath) binary without the RPC server.
func Go(arch Arch) GoBuild {
	return GoBuild{
		Env:   []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch.GOARCH()},
		Flags: []string{"-trimpath", "-tags", GoTags, "-ldflags", GoLdflags},
	}
}

// Command renders the build as a shell command line writing out.
func (g GoBuild) Command(out, pkg string) string {
	var b strings.Builder
	for _, e := range g.Env {
		b.WriteString(e + " ")
	}
	b.WriteString("go build")
	for i := 0; i < len(g.Flags); i++ {
		f := g.Flags[i]
		if (f == "-tags" || f == "-ldflags") && i+1 < len(g.Flags) {
			b.WriteString(" " + f + " " + shellQuote(g.Flags[i+1]))
			i++
			continue
		}
		b.WriteString(" " + f)
	}
	b.WriteString(" -o " + out + " " + pkg)
	return b.String()
}

func shellQuote(s string) string {
	if strings.ContainsAny(s, " \t\"'$") {
		return "\"" + s + "\""
	}
	return s
}

// RustProfileKey is one setting of Cargo's [profile.release].
type RustProfileKey struct {
	Key   string
	Value string // TOML literal, e.g. `true`, `1`, `"abort"`
	Why   string
}

// RustProfile is the tuned [profile.release], in the order it is written.
func RustProfile() []RustProfileKey {
	return []RustProfileKey{
		{"opt-level", `"s"`, "optimise for size: a smaller binary maps and pages in faster at cold start"},
		{"lto", `true`, "whole-program link-time optimisation removes dead code across crates"},
		{"codegen-units", `1`, "one codegen unit lets LLVM optimise the whole crate together"},
		{"panic", `"abort"`, "no unwinding tables or landing pads"},
		{"strip", `true`, "no symbols or debug info in the shipped binary"},
	}
}

// RustRustflags are passed to rustc for every target fnopt builds.
// crt-static links the C runtime statically: no dynamic loader work at
// start-up and no dependence on the image's glibc.
var rustRustflags = []string{"-C", "target-feature=+crt-static"}

// RustRustflags returns the rustc flags for the tuned build.
func RustRustflags() []string { return append([]string(nil), rustRustflags...) }
