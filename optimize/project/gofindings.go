package project

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/fnopt/fnopt/internal/bytesize"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// goFindings compares every `go build` in the build files with the tuned
// build from internal/function/settings.
func (a *analyzer) goFindings() {
	tuned := settings.Go(settings.DefaultArch)
	trim := Finding{ID: "go-trimpath", rank: rankTrimpath, Title: "go build without -trimpath",
		Why:    "without -trimpath the binary embeds the build machine's file paths: builds differ between machines and the binary is a little larger",
		Effect: "reproducible builds, slightly smaller binary"}
	tags := Finding{ID: "go-tags-norpc", rank: rankNoRPC, Title: "go build without -tags " + settings.GoTags,
		Why: "aws-lambda-go links a net/rpc server that only the retired go1.x runtime used; " + settings.GoTags +
			" leaves it out (custom runtimes talk to the Runtime API over HTTP); net/rpc also pulls in html/template",
		Effect: "a smaller binary, without the RPC server and the packages it pulls in, and fewer packages to initialise at cold start" + measuredHere}
	ld := Finding{ID: "go-ldflags", rank: rankLdflags, Title: fmt.Sprintf("go build without -ldflags %q", settings.GoLdflags),
		Why:    "-s -w drop the symbol table and DWARF debug information, which Lambda never uses; -buildid= makes the binary reproducible",
		Effect: a.stripEffect()}
	cgo := Finding{ID: "go-cgo", rank: rankCgo, Title: "go build without CGO_ENABLED=0",
		Why:    "with cgo enabled the binary can link against the build machine's glibc, which the Lambda runtime may not have, and loads through the dynamic linker",
		Effect: "a static binary: no dynamic loader work at start, runs on any runtime base"}
	dbg := Finding{ID: "go-debug-gcflags", rank: rankDebugBuild, Title: "go build with optimisations or inlining turned off",
		Why:    "-gcflags with -N or -l (debugger settings) compile the function without optimisations or inlining: slower code and a larger binary",
		Effect: "optimised code again: faster init and invocations, smaller binary"}
	cgoUses := a.cgoUses()
	builds := 0
	for _, f := range a.text {
		for _, b := range f.goBuilds() {
			builds++
			ev := f.evidence(b.goWord().start)
			after := b.buildWord().end
			if u, ok := b.flags["-gcflags"]; ok && debugGcflags(b.f.expand(u.val)) {
				dbg.Evidence = append(dbg.Evidence, ev)
				// Remove the flag and its value, with the space before it.
				start, end := b.words[u.nameIdx].start, b.words[u.valIdx].end
				for start > 0 && (f.src[start-1] == ' ' || f.src[start-1] == '\t') {
					start--
				}
				dbg.Edits = append(dbg.Edits, Edit{File: f.rel, Line: ev.Line, Start: start, End: end})
			}
			if !b.hasFlag("-trimpath") {
				trim.Evidence = append(trim.Evidence, ev)
				trim.Edits = append(trim.Edits, Edit{File: f.rel, Line: ev.Line, Start: after, End: after, New: " -trimpath", seq: 0})
			}
			if a.plan.Project.LambdaGo {
				if e, ok := addListFlag(b, "-tags", strings.Split(settings.GoTags, ","), ",", 1); ok {
					tags.Evidence = append(tags.Evidence, ev)
					tags.Edits = append(tags.Edits, e)
				}
			}
			if e, ok := addListFlag(b, "-ldflags", strings.Fields(settings.GoLdflags), " ", 2); ok {
				ld.Evidence = append(ld.Evidence, ev)
				ld.Edits = append(ld.Edits, e)
			}
			for _, env := range tuned.Env {
				name, want, _ := strings.Cut(env, "=")
				if name != "CGO_ENABLED" {
					continue
				}
				v, found := b.envValue(name)
				switch {
				case found && v == "1":
					cgo.Blocked = "the build enables cgo on purpose at " + ev.String()
					cgo.Evidence = append(cgo.Evidence, ev)
				case !found:
					cgo.Evidence = append(cgo.Evidence, ev)
					at := b.goWord().start
					cgo.Edits = append(cgo.Edits, Edit{File: f.rel, Line: ev.Line, Start: at, End: at, New: env + " ", seq: 3})
				case v != want:
					cgo.Evidence = append(cgo.Evidence, ev)
					cgo.Manual = "set " + env + " for the build at " + ev.String()
				}
			}
		}
	}
	if len(cgoUses) > 0 && len(cgo.Evidence) > 0 {
		cgo.Blocked = "the code uses cgo: " + cgoUses[0].String() + ` imports "C"`
	}
	for _, f := range []*Finding{&dbg, &ld, &tags, &trim, &cgo} {
		if len(f.Evidence) == 0 {
			continue
		}
		if f.Blocked != "" || f.Manual != "" {
			f.Edits = nil
		}
		a.add(*f)
	}
	if builds == 0 {
		a.samGoBuilder(tuned)
	}
}

// measuredHere ends an effect that depends on the code: the plan does not
// build the project, its proof does.
const measuredHere = " (fnopt optimize --verify measures it on this project)"

// stripEffect is what -s -w bring: the bytes they remove from the
// project's own built Go binary when one is there, computed from its
// sections, else what they remove, without a figure.
func (a *analyzer) stripEffect() string {
	var big *binary
	for _, b := range findBinaries(a.dir, a.tree.binaries) {
		if b.goBinary && !b.upx && b.strippable() > 0 && (big == nil || b.size > big.size) {
			big = b
		}
	}
	if big == nil {
		return "a smaller binary, without its symbol table and DWARF: less to upload, store and read at cold start" + measuredHere
	}
	return fmt.Sprintf("a smaller binary: the symbol table and DWARF are %s of the %s of %s; less to upload, store and read at cold start",
		bytesize.Format(big.strippable()), bytesize.Format(big.size), big.rel)
}

// debugGcflags reports whether -gcflags turn off optimisation (-N) or
// inlining (-l), for any package pattern ("all=-N -l").
func debugGcflags(v string) bool {
	for _, f := range strings.Fields(v) {
		if i := strings.IndexByte(f, '='); i >= 0 {
			f = f[i+1:]
		}
		if f == "-N" || f == "-l" {
			return true
		}
	}
	return false
}

// addListFlag returns the edit that adds the missing items of a list flag
// (-tags a,b or -ldflags "-s -w"): into its value when the command has the
// flag, as a new flag after `go build` otherwise.
func addListFlag(b *goBuildCmd, name string, want []string, sep string, seq int) (Edit, bool) {
	have := strings.FieldsFunc(b.flagValue(name), func(r rune) bool { return r == ',' || r == ' ' })
	var missing []string
	for _, w := range want {
		found := false
		for _, h := range have {
			// -buildid= is satisfied by any build ID the user chose.
			if h == w || strings.HasSuffix(w, "=") && strings.HasPrefix(h, w) {
				found = true
			}
		}
		if !found {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return Edit{}, false
	}
	extra := strings.Join(missing, sep)
	if u, ok := b.flags[name]; ok {
		s := sep
		if sep == "," && strings.Contains(strings.TrimSpace(u.val), " ") && !strings.Contains(u.val, ",") {
			s = " " // the old space-separated tag list
		}
		if strings.TrimSpace(u.val) == "" {
			s = ""
		}
		return appendToValue(b.f, b.words[u.valIdx], u.valIdx == u.nameIdx, s, extra, seq), true
	}
	val := extra
	if strings.Contains(val, " ") {
		val = `"` + val + `"`
	}
	after := b.buildWord().end
	return Edit{File: b.f.rel, Line: b.f.lines.line(after), Start: after, End: after, New: " " + name + " " + val, seq: seq}, true
}

// samGoBuilder reports functions that SAM builds with its own Go builder,
// which takes no build flags.
func (a *analyzer) samGoBuilder(tuned settings.GoBuild) {
	f := Finding{ID: "go-build-flags", rank: rankLdflags, Title: "SAM's Go builder cannot use the tuned build flags",
		Why:    "BuildMethod go1.x runs a plain `go build`: the binary keeps symbols, DWARF and the RPC server",
		Effect: "a binary built with the tuned flags: without the symbol table, DWARF and the RPC server" + measuredHere}
	for _, fn := range a.fns {
		if !fn.sam || (fn.buildMethod != "go1.x" && !(fn.buildMethod == "" && fn.runtime.value() == "go1.x")) {
			continue
		}
		ev := fn.file.evidence(fn.runtime.val)
		if m := value(fn.resource, "Metadata"); m != nil {
			if k, _ := get(m, "BuildMethod"); k != nil {
				ev = fn.file.evidence(k)
			}
		}
		f.Evidence = append(f.Evidence, ev)
	}
	if len(f.Evidence) == 0 {
		return
	}
	f.Manual = "use BuildMethod: makefile with a Makefile target build-<Function> that runs: " +
		tuned.Command("$(ARTIFACTS_DIR)/"+settings.Handler, ".")
	a.add(f)
}

// goArch returns what blocks building for arch, and the build edits that
// switch every `go build` to it. force adds GOARCH to builds that set none
// (no template says what they are for).
func (a *analyzer) goArch(arch settings.Arch, force bool) (blockers []string, edits []Edit, ev []Evidence, manual string) {
	for _, u := range a.cgoUses() {
		blockers = append(blockers, fmt.Sprintf("cgo: %s imports \"C\" (needs a C cross-compiler and arm64 libraries)", u))
	}
	want := arch.GOARCH()
	for _, f := range a.text {
		for _, m := range platformRE.FindAllIndex(f.src, -1) {
			blockers = append(blockers, fmt.Sprintf("%s pins the image platform to linux/amd64", f.evidence(m[0])))
		}
		if f.kind == kindDockerfile {
			// An image's architecture is its build platform (docker build
			// --platform), not something a RUN line should pin.
			continue
		}
		for _, b := range f.goBuilds() {
			e := f.evidence(b.goWord().start)
			if v, ok := b.envValue("CGO_ENABLED"); ok && v == "1" {
				blockers = append(blockers, fmt.Sprintf("cgo: the build at %s sets CGO_ENABLED=1", e))
			}
			cur, found := b.envValue("GOARCH")
			switch {
			case cur == want:
				continue
			case found:
				ed, ok := b.setEnv("GOARCH", cur, want)
				if !ok {
					manual = "set GOARCH=" + want + " for the build at " + e.String()
				}
				ev = append(ev, e)
				edits = append(edits, ed)
			case force || len(a.fns) > 0:
				ev = append(ev, Evidence{File: e.File, Line: e.Line, Text: e.Text + "  (no GOARCH: builds for the build machine)"})
				at := b.goWord().start
				if _, ok := b.envValue("GOOS"); !ok {
					edits = append(edits, Edit{File: f.rel, Line: e.Line, Start: at, End: at, New: "GOOS=linux ", seq: 1})
				}
				edits = append(edits, Edit{File: f.rel, Line: e.Line, Start: at, End: at, New: "GOARCH=" + want + " ", seq: 2})
			}
		}
	}
	return blockers, edits, ev, manual
}

var platformRE = regexp.MustCompile(`(?m)^[ \t]*FROM[ \t]+--platform=linux/amd64`)

// setEnv changes the value of a variable the command sees: in its prefix
// (literally or through a variable defined in the file) or where the
// file exports it.
func (b *goBuildCmd) setEnv(name, old, repl string) (Edit, bool) {
	f := b.f
	if i, ok := b.prefix[name]; ok {
		w := b.words[i]
		_, v, _ := isAssignment(w.val)
		if ref := refName(v); ref != "" {
			if d, ok := f.vars[ref]; ok {
				return replaceInSpan(f, d.start, d.end, old, repl)
			}
			return Edit{}, false
		}
		return replaceTail(f, w, v, repl)
	}
	if d, ok := f.env[name]; ok {
		return replaceInSpan(f, d.start, d.end, old, repl)
	}
	return Edit{}, false
}

func replaceInSpan(f *textFile, start, end int, old, repl string) (Edit, bool) {
	i := strings.LastIndex(string(f.src[start:end]), old)
	if i < 0 {
		return Edit{}, false
	}
	s := start + i
	return Edit{File: f.rel, Line: f.lines.line(s), Start: s, End: s + len(old), New: repl}, true
}
