package project

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// debugTargetRE matches cargo's debug output folder in a path:
// target/debug/ or target/<triple>/debug/.
var debugTargetRE = regexp.MustCompile(`target/(?:[A-Za-z0-9_.-]+/)?(debug)/`)

// rustFindings compares Cargo.toml's release profile and the cargo
// commands of the build files with the tuned ones.
func (a *analyzer) rustFindings() {
	if c := a.rootCargo(); c != nil {
		keys, edits := c.profileEdits()
		if len(keys) > 0 {
			a.add(Finding{ID: "rust-profile", rank: rankRustProfile,
				Title:    "Cargo [profile.release] without the tuned settings",
				Evidence: []Evidence{c.profileEvidence()},
				Why: "cargo's default release profile optimises for speed with 16 codegen units, no LTO, unwinding tables and symbols: " +
					"a binary several times larger than needed; adds " + strings.Join(keys, ", "),
				Effect: "a smaller binary, optimised for size as a whole program, without unwinding tables or symbols: less to page in at cold start" + measuredHere,
				Edits:  edits})
		}
	}
	dbg := Finding{ID: "debug-build", rank: rankDebugBuild, Title: "cargo build without --release ships a debug build",
		Why:    "a debug build is unoptimised (often 10x slower code) and several times larger, with all debug information",
		Effect: "optimised code: faster init and invocations, and a smaller binary" + measuredHere}
	for _, f := range a.text {
		fixed := false
		for _, c := range f.cargoBuilds() {
			if c.release() {
				continue
			}
			w := c.words[c.buildIdx]
			dbg.Evidence = append(dbg.Evidence, f.evidence(c.words[0].start))
			dbg.Edits = append(dbg.Edits, Edit{File: f.rel, Line: f.lines.line(w.end), Start: w.end, End: w.end, New: " --release"})
			fixed = true
		}
		if !fixed {
			continue
		}
		// The release binary lands in target/.../release/: follow it.
		for _, m := range debugTargetRE.FindAllSubmatchIndex(f.src, -1) {
			if commentLine(f.src, m[0]) {
				continue
			}
			dbg.Edits = append(dbg.Edits, Edit{File: f.rel, Line: f.lines.line(m[2]), Start: m[2], End: m[3], New: "release"})
		}
	}
	if len(dbg.Evidence) > 0 {
		a.add(dbg)
	}
}

func commentLine(src []byte, off int) bool {
	s := off
	for s > 0 && src[s-1] != '\n' {
		s--
	}
	return strings.HasPrefix(strings.TrimSpace(string(src[s:off])), "#")
}

// rootCargo is the Cargo.toml nearest the project root: where cargo reads
// profiles from in a workspace.
func (a *analyzer) rootCargo() *cargoFile {
	var best *cargoFile
	for _, c := range a.cargos {
		if best == nil || strings.Count(c.rel, "/") < strings.Count(best.rel, "/") {
			best = c
		}
	}
	return best
}

// rustArch returns what blocks building for arch and the build edits.
// cargo lambda cross-compiles by itself (--arm64); a plain cargo build
// needs a target and a C linker installed, which fnopt cannot check for
// the user's build machine, so that change is left to do by hand.
func (a *analyzer) rustArch(arch settings.Arch, needed bool) (blockers []string, edits []Edit, ev []Evidence, manual string) {
	for _, c := range a.cargos {
		for _, n := range c.nativeDeps(a.dir) {
			blockers = append(blockers, "native code: "+n+" (needs an arm64 C toolchain and libraries)")
		}
	}
	for _, f := range a.text {
		for _, c := range f.cargoBuilds() {
			e := f.evidence(c.words[0].start)
			target, hasTarget := c.has("--target")
			if strings.HasPrefix(target, strings.SplitN(arch.RustTarget(), "-", 2)[0]) {
				continue
			}
			if strings.Contains(target, "$") {
				// Chosen by make at build time (ARCH=...): fnopt cannot
				// tell what it builds, so it cannot change it safely.
				if needed {
					ev = append(ev, e)
					manual = fmt.Sprintf("make the build at %s target %s (its --target %s is chosen by a variable)", e, arch.RustTarget(), target)
				}
				continue
			}
			if _, ok := c.has("--arm64"); ok && arch == settings.ARM64 {
				continue
			}
			ev = append(ev, e)
			if c.lambda && !hasTarget && arch == settings.ARM64 {
				w := c.words[c.buildIdx]
				edits = append(edits, Edit{File: f.rel, Line: e.Line, Start: w.end, End: w.end, New: " --arm64", seq: 1})
				continue
			}
			manual = fmt.Sprintf("build for %s at %s: `rustup target add %s`, a C linker for it (Debian: gcc-aarch64-linux-gnu), "+
				"then `cargo build --release --target %s`; or build with `fnopt build`, which sets this up",
				arch.RustTarget(), e, arch.RustTarget(), arch.RustTarget())
		}
	}
	return blockers, edits, ev, manual
}
