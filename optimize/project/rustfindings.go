package project

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
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
	a.rustStaticFinding()
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

// rustStaticEffect is what taking +crt-static out of a zip's bootstrap is
// expected to bring, from fnopt's measurements of its minimal function
// (2026-12-02): bootstrap 1,276,688 bytes static against 367,976 dynamic
// (BenchmarkRustMinimalSize, settings.RustRustflags), zip 592 against 189
// KiB, and init p50 in `make bench` 7 to 11% sooner static with a cold page
// cache, 28 to 31% sooner warm (docs/bench.md, two runs). Smaller, but
// slower to start: the effect says both.
const rustStaticEffect = "a bootstrap about 0.9 MB smaller and a zip about 400 KB smaller; " +
	"but the dynamic loader's work at start comes back (fnopt's benchmark measured the static build's init 7 to 11% shorter " +
	"with a cold page cache and 28 to 31% shorter warm)" + measuredHere

// rustStaticFinding reports a bootstrap linked with static glibc
// (-C target-feature=+crt-static) for a zip, where Lambda's provided.al2023
// brings glibc and its loader. It is not raised where static is required
// (an image on an empty base) or chosen where fnopt reads it (fnopt.yaml's
// build.link: static, which fnopt build and verify then build and measure).
func (a *analyzer) rustStaticFinding() {
	var s crtStatic
	for _, f := range a.text {
		s.textSites(f)
	}
	for _, c := range a.cargoConfigs {
		c.crtStatic(&s)
	}
	if len(s.ev) == 0 || a.fnopt != nil && a.fnopt.Build.Link.Static() {
		return
	}
	f := Finding{ID: "rust-static-glibc", rank: rankRustStatic, Title: "glibc linked statically into a zip (" + crtStaticFeature + ")",
		Evidence: s.ev,
		Why: "static glibc adds about 0.9 MB to the bootstrap (in fnopt's benchmark a minimal function's bootstrap grows from 367,976 to 1,276,688 bytes, " +
			"its zip from 189 to 592 KiB), while " + settings.Runtime + " has glibc " + build.LambdaGlibc + " and its loader, so a dynamically linked bootstrap runs there. " +
			"Keep it when the build machine's glibc is newer than " + build.LambdaGlibc + " (a dynamic bootstrap may then need symbols Lambda lacks; fnopt build refuses such a bootstrap), " +
			"or when it is a deliberate choice: then say so in " + config.FileName + " as build.link: static, so that fnopt build and verify build and measure what ships",
		Effect: rustStaticEffect}
	required, blocked := a.imageBases()
	switch {
	case len(required) > 0:
		return // an image on an empty base has no glibc to link to
	case len(blocked) > 0:
		f.Title = "glibc linked statically (" + crtStaticFeature + ") into a container image (blocked)"
		f.Blocked = "the function ships as a container image (" + strings.Join(blocked, "; ") +
			"): a dynamically linked bootstrap needs glibc and its loader in the image; " +
			"take " + crtStaticFeature + " out only if the base brings them (Lambda's provided:al2023 does)"
	case len(s.manual) > 0:
		f.Manual = strings.Join(s.manual, "; ")
	default:
		f.Edits = dedupe(s.edits)
	}
	a.add(f)
}

// lastFromRE finds a Dockerfile's FROM lines; the last one is the base of
// what the image ships.
var lastFromRE = regexp.MustCompile(`(?mi)^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?(\S+)`)

// al2023BaseRE matches Lambda's provided:al2023 base image, which has
// glibc 2.34 and its loader.
var al2023BaseRE = regexp.MustCompile(`^(?:public\.ecr\.aws|amazon)/lambda/provided:al2023`)

// imageBases says how the function ships as a container image: required
// lists the images whose base has no C library (FROM scratch, or fnopt.yaml
// package: image, which fnopt builds on no base and links statically
// itself), blocked the images whose base fnopt cannot tell has glibc.
// An image on provided:al2023 is neither: it has glibc, as the zip
// runtime does.
func (a *analyzer) imageBases() (required, blocked []string) {
	for _, rel := range a.tree.docker {
		src := a.sources[rel]
		m := lastFromRE.FindAllSubmatchIndex(src, -1)
		if m == nil {
			continue
		}
		last := m[len(m)-1]
		base := string(src[last[2]:last[3]])
		where := fmt.Sprintf("%s:%d FROM %s", rel, newLineIndex(src).line(last[0]), base)
		switch {
		case strings.EqualFold(base, "scratch"):
			required = append(required, where)
		case !al2023BaseRE.MatchString(base):
			blocked = append(blocked, where)
		}
	}
	if len(a.tree.docker) > 0 {
		return required, blocked // the Dockerfiles say what the images hold
	}
	if a.fnopt != nil && a.fnopt.Package == config.Image {
		required = append(required, config.FileName+": package: image")
	}
	for _, fn := range a.fns {
		if fn.packageType == "Image" {
			blocked = append(blocked, fmt.Sprintf("%s declares %s as PackageType: Image, built from a Dockerfile fnopt did not find", fn.file.rel, fn.name))
		}
	}
	return required, blocked
}
