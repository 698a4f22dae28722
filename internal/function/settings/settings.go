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

// Arches are the architectures Lambda runs, the default first.
var Arches = []string{string(ARM64), string(X86_64)}

// ParseArch accepts Lambda's spelling and the Go/OCI aliases (amd64,
// aarch64), in any case: every command and fnopt.yaml parse architectures
// here, so an alias is accepted or refused the same everywhere.
func ParseArch(s string) (Arch, error) {
	switch strings.ToLower(s) {
	case "arm64", "aarch64":
		return ARM64, nil
	case "x86_64", "amd64", "x86-64":
		return X86_64, nil
	}
	return "", &ChoiceError{What: "architecture", Value: s, Choices: Arches}
}

// ChoiceError is a value that is not one of a setting's choices. Callers
// put the flag or the file key in front.
type ChoiceError struct {
	What    string   // "architecture", "language", ...
	Value   string   // what was given
	Choices []string // what is accepted, the default first
}

func (e *ChoiceError) Error() string {
	return fmt.Sprintf("unknown %s %q: use one of %s", e.What, e.Value, strings.Join(e.Choices, ", "))
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
func (g GoBuild) Command(out, pkg string) string { return g.CommandWith("go", out, pkg) }

// CommandWith is Command with another go tool, e.g. "$(GO)" in a Makefile.
func (g GoBuild) CommandWith(goTool, out, pkg string) string {
	var b strings.Builder
	for _, e := range g.Env {
		b.WriteString(e + " ")
	}
	b.WriteString(goTool + " build")
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
//
// Measured on the minimal hello function (fnopt new --lang rust --client
// minimal --event raw), x86_64, rustc 1.95, Debian 12, stripped bootstrap
// in bytes (dynamically linked glibc; see RustRustflags):
//
//	opt-level  lto=fat  lto=thin
//	3          429,744  461,808
//	"s"        381,904  420,224
//	"z"        379,496  418,744
//
// Start-up (exec to exit after the first Runtime API connect, hyperfine,
// 1000 runs) did not differ between opt-levels beyond noise (0.9 ms mean
// each), so size decides: "z" saves only 0.6% over "s" but gives up loop
// vectorisation and most inlining, work every invocation's JSON decoding
// pays for; "s" it is. Fat LTO is 9% smaller than thin.
func RustProfile() []RustProfileKey {
	return []RustProfileKey{
		{"opt-level", `"s"`, "optimise for size: a smaller binary maps and pages in faster at cold start"},
		{"lto", `true`, "whole-program (fat) link-time optimisation removes dead code across crates"},
		{"codegen-units", `1`, "one codegen unit lets LLVM optimise the whole crate together"},
		{"panic", `"abort"`, "no unwinding tables or landing pads"},
		{"strip", `true`, "no symbols or debug info in the shipped binary"},
	}
}

// RustRustflags returns the rustc flags passed for every target fnopt
// builds.
//
// None, on purpose: glibc is linked dynamically (provided.al2023 ships
// glibc 2.34; a bootstrap built on Debian 12 needs at most GLIBC_2.34).
// Measured on the minimal hello function, x86_64, opt-level "s", fat LTO,
// by BenchmarkRustMinimalSize (templates/rust_test.go), start-up being
// exec to the first GET /next against the Runtime API emulator, median of
// 300 interleaved runs (2026-12-02):
//
//	                     bootstrap    start-up
//	dynamic glibc          367,976     3.76 ms
//	+crt-static          1,276,688     2.81 ms
//
// crt-static starts sooner (no dynamic loader) but makes the binary 3.5
// times bigger and the zip about 400 KB bigger, which puts the 500 KB
// budget of a Rust function out of reach; with a cold page cache the gain
// varies with the disk (docs/bench.md). So it is the user's choice
// (fnopt.yaml build.link: static; RustFlags), not the default. Non-PIE
// (-C relocation-model=static) saved 3 to 6% more of a static start and
// gives up ASLR: not used. A dynamic bootstrap in an image needs glibc and
// its loader there: use Lambda's provided:al2023 base image rather than
// scratch.
func RustRustflags() []string { return nil }

// RustFlags are the rustc flags of a tuned Rust bootstrap, linked
// statically when static is true: the one choice between RustRustflags
// and RustStaticRustflags, for builds and for generated Makefiles alike.
func RustFlags(static bool) []string {
	if static {
		return RustStaticRustflags()
	}
	return RustRustflags()
}

// RustStaticRustflags are the rustc flags for a bootstrap linked
// statically: one that must run with no C library beside it (an image on
// an empty base), or one whose fnopt.yaml asks for it. The megabyte that
// static glibc adds buys a start without the dynamic loader (see
// RustRustflags).
func RustStaticRustflags() []string {
	return []string{"-C", "target-feature=+crt-static"}
}
