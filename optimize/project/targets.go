package project

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// runtimeFindings compares what each declared function runs on with the
// tuned runtime and architecture.
func (a *analyzer) runtimeFindings() {
	a.go1xFinding()
	a.go1xImageFinding()
	a.al2Finding()
	a.archFinding()
}

func (a *analyzer) go1xFinding() {
	f := Finding{ID: "go1x-runtime", rank: rankGo1x,
		Title: fmt.Sprintf("go1.x runtime → %s, handler and binary named %s", settings.Runtime, settings.Handler),
		Why: "the go1.x runtime is deprecated and retired: functions on it can no longer be updated, it runs on Amazon Linux 1 " +
			"and starts the binary through an RPC shim; custom runtimes run the binary directly",
		Effect: fmt.Sprintf("the function can be deployed again; %s has the smallest base image and no RPC shim", settings.Runtime)}
	handlers := map[string]bool{}
	var edits []Edit
	var manual []string
	for _, fn := range a.fns {
		if fn.runtime.value() != "go1.x" {
			continue
		}
		f.Evidence = append(f.Evidence, fn.file.evidence(fn.runtime.val))
		e, ok := fn.file.setScalar(fn.runtime.val, settings.Runtime)
		if !ok {
			manual = append(manual, fmt.Sprintf("set the runtime at %s to %s", fn.file.evidence(fn.runtime.val), settings.Runtime))
		}
		// Serverless packages the service folder by default: the binary
		// would sit at bin/..., and a custom runtime needs bootstrap at
		// the root of the function's zip.
		if fn.resource == nil && fn.artifact == "" {
			manual = append(manual, fmt.Sprintf("package %s as its own zip with %s at the root (package.artifact), built by your build step",
				fn.name, settings.Handler))
		}
		edits = append(edits, e)
		if h := fn.handler.value(); h != "" {
			if h != settings.Handler {
				handlers[path.Base(h)] = true
				e, ok := fn.file.setScalar(fn.handler.val, settings.Handler)
				if !ok {
					manual = append(manual, fmt.Sprintf("set the handler at %s to %s", fn.file.evidence(fn.handler.val), settings.Handler))
				}
				edits = append(edits, e)
			}
		}
		// SAM infers the Go builder from the go1.x runtime; a custom
		// runtime needs to be told.
		if fn.sam && fn.buildMethod == "" {
			pk, pv := get(fn.resource, "Properties")
			_, meta := get(fn.resource, "Metadata")
			if pk == nil || meta != nil {
				manual = append(manual, fmt.Sprintf("add BuildMethod: go1.x to the Metadata of %s", fn.name))
				continue
			}
			unit := strings.Repeat(" ", indentUnit(pk, pv))
			e, ok := fn.file.insertBeforeKey(pk, "Metadata:", unit+"BuildMethod: go1.x")
			if !ok {
				manual = append(manual, fmt.Sprintf("add Metadata: {BuildMethod: go1.x} to %s", fn.name))
			}
			edits = append(edits, e)
		}
	}
	if len(f.Evidence) == 0 {
		return
	}
	// The build must now write a file named bootstrap.
	renames, problem := a.renameOutputs(handlers)
	if problem != "" {
		manual = append(manual, problem)
	}
	edits = append(edits, renames...)
	if len(manual) > 0 {
		f.Manual = strings.Join(manual, "; ")
	} else {
		f.Edits = dedupe(edits)
	}
	a.add(f)
}

// renameOutputs renames the binaries the build writes under a go1.x
// handler's name to bootstrap, with the later references to them (zip
// inputs, copies) in the same build files.
func (a *analyzer) renameOutputs(handlers map[string]bool) ([]Edit, string) {
	if len(handlers) == 0 {
		return nil, ""
	}
	var edits []Edit
	oldPaths := map[string]bool{}
	for _, f := range a.text {
		for _, b := range f.goBuilds() {
			w, val, ok := b.output()
			if !ok || !handlers[path.Base(f.expand(val))] {
				continue
			}
			if len(handlers) > 1 {
				return nil, "several functions are built into one folder: build each into its own folder as " + settings.Handler
			}
			if path.Base(val) != path.Base(f.expand(val)) {
				// -o $(BINARY): renaming the variable could rename other
				// things (zips, folders) that deploy scripts rely on.
				return nil, "the binary written at " + f.evidence(w.start).String() + " is named through a variable: make it " + settings.Handler
			}
			e, ok := replaceTail(f, w, path.Base(val), settings.Handler)
			if !ok {
				return nil, "rename the binary written at " + f.evidence(w.start).String() + " to " + settings.Handler
			}
			edits = append(edits, e)
			oldPaths[val] = true
		}
	}
	if len(edits) == 0 {
		if a.makefileBuilt() {
			return nil, "make the Makefile's build-<Function> target write $(ARTIFACTS_DIR)/" + settings.Handler
		}
		return nil, ""
	}
	for _, f := range a.text {
		for _, c := range f.cmds {
			for _, w := range c.words {
				// The old output path, or a copy of it into SAM's
				// artifacts folder (cp bin/main $(ARTIFACTS_DIR)/main).
				if !oldPaths[w.val] && !(handlers[path.Base(w.val)] && strings.Contains(w.val, "ARTIFACTS_DIR")) {
					continue
				}
				if e, ok := replaceTail(f, w, path.Base(w.val), settings.Handler); ok {
					edits = append(edits, e)
				}
			}
		}
		for _, w := range f.zipInputs() {
			if handlers[path.Base(w.val)] {
				if e, ok := replaceTail(f, w, path.Base(w.val), settings.Handler); ok {
					edits = append(edits, e)
				}
			}
		}
	}
	return edits, ""
}

// go1xImageFinding reports Dockerfiles built on the retired go1.x base
// image. Moving an image to provided.al2023 changes its entrypoint and
// layout, which is not a line edit: it is explained, not made.
func (a *analyzer) go1xImageFinding() {
	f := Finding{ID: "go1x-image", rank: rankGo1x, Title: "container image on the retired lambda/go base image",
		Why:    "public.ecr.aws/lambda/go is the go1.x runtime's image: deprecated, Amazon Linux 1 based, and it starts the binary through an RPC shim",
		Effect: "a supported, smaller image that runs the binary directly"}
	for _, t := range a.text {
		if t.kind != kindDockerfile {
			continue
		}
		for _, m := range goBaseImageRE.FindAllIndex(t.src, -1) {
			f.Evidence = append(f.Evidence, t.evidence(m[0]))
		}
	}
	if len(f.Evidence) == 0 {
		return
	}
	f.Manual = "build FROM public.ecr.aws/lambda/provided:al2023 (or scratch), copy the binary to ${LAMBDA_RUNTIME_DIR}/bootstrap " +
		"or set ENTRYPOINT to it, and build it with the tuned flags; `fnopt build --package image` writes such an image"
	a.add(f)
}

var goBaseImageRE = regexp.MustCompile(`(?m)^[ \t]*FROM[ \t]+(?:--platform=\S+[ \t]+)?(?:public\.ecr\.aws|amazon)/lambda/go(?::\S*)?`)

// makefileBuilt reports whether a go1.x function is built by SAM through
// the Makefile (BuildMethod: makefile).
func (a *analyzer) makefileBuilt() bool {
	for _, fn := range a.fns {
		if fn.runtime.value() == "go1.x" && fn.buildMethod == "makefile" {
			return true
		}
	}
	return false
}

func (a *analyzer) al2Finding() {
	f := Finding{ID: "al2-runtime", rank: rankAL2, Title: "provided.al2 → " + settings.Runtime,
		Why:    "Amazon Linux 2023 is the current custom runtime: a smaller base image than Amazon Linux 2, which reaches end of support",
		Effect: "a supported, smaller runtime base; no change to the binary"}
	for _, fn := range a.fns {
		if fn.runtime.value() != "provided.al2" && fn.runtime.value() != "provided" {
			continue
		}
		f.Evidence = append(f.Evidence, fn.file.evidence(fn.runtime.val))
		e, ok := fn.file.setScalar(fn.runtime.val, settings.Runtime)
		if !ok {
			f.Manual = "set the runtime to " + settings.Runtime + " at " + fn.file.evidence(fn.runtime.val).String()
		}
		f.Edits = append(f.Edits, e)
	}
	if f.Manual != "" {
		f.Edits = nil
	}
	f.Edits = dedupe(f.Edits)
	if len(f.Evidence) > 0 {
		a.add(f)
	}
}

// archFinding moves x86_64 functions to arm64 unless something blocks
// it. The template says what Lambda runs; the build must produce a binary
// for it, so both change together or not at all.
func (a *analyzer) archFinding() {
	want := settings.DefaultArch
	f := Finding{ID: "arch-arm64", rank: rankArm64, Title: "x86_64 → " + string(want),
		Why:    "Graviton (arm64) functions are priced about 20% lower per GB-second than x86_64 ones",
		Effect: "about 20% lower compute cost (measure the cold start with fnopt verify on arm64)"}
	if a.plan.Project.Language == "go" {
		// A Go binary for arm64 comes out a little smaller than the same
		// one for x86_64 (README: 5.56 against 6.01 MiB, tuned).
		f.Effect = "about 20% lower compute cost; the Go binary is also a little smaller (measure the cold start with fnopt verify on arm64)"
	}
	var edits []Edit
	var manual []string
	for _, fn := range a.fns {
		cur := fn.arch.value()
		switch {
		case cur == string(want):
			continue
		case fn.arch.val != nil && cur != string(settings.X86_64):
			manual = append(manual, "set the architecture at "+fn.file.evidence(fn.arch.val).String()+" to "+string(want))
			f.Evidence = append(f.Evidence, fn.file.evidence(fn.arch.val))
			continue
		case fn.arch.val != nil:
			f.Evidence = append(f.Evidence, fn.file.evidence(fn.arch.val))
			e, ok := fn.file.setScalar(fn.arch.val, string(want))
			if !ok {
				manual = append(manual, "set the architecture at "+fn.file.evidence(fn.arch.val).String()+" to "+string(want))
			}
			edits = append(edits, e)
			continue
		}
		// No architecture: Lambda's default is x86_64. Add it beside the
		// runtime, where it is declared.
		if fn.runtime.key == nil {
			manual = append(manual, "declare the architecture of "+fn.name)
			continue
		}
		ev := fn.file.evidence(fn.runtime.key)
		ev.Text = fn.name + " declares no architecture (Lambda's default is x86_64)"
		f.Evidence = append(f.Evidence, ev)
		lines := []string{fn.archKey + ": " + string(want)}
		if fn.archKey == "Architectures" {
			lines = []string{"Architectures:", "  - " + string(want)}
		}
		e, ok := fn.file.insertAfterEntry(fn.runtime.key, fn.runtime.val, lines...)
		if !ok {
			manual = append(manual, "add the architecture to "+fn.name)
		}
		edits = append(edits, e)
	}
	var blockers []string
	var buildEdits []Edit
	var buildEv []Evidence
	var buildManual string
	if a.plan.Project.Language == "go" {
		blockers, buildEdits, buildEv, buildManual = a.goArch(want, len(a.fns) == 0)
	} else {
		blockers, buildEdits, buildEv, buildManual = a.rustArch(want, len(f.Evidence) > 0)
	}
	f.Evidence = append(f.Evidence, buildEv...)
	if len(f.Evidence) == 0 {
		return
	}
	edits = append(edits, buildEdits...)
	if buildManual != "" {
		manual = append(manual, buildManual)
	}
	switch {
	case len(blockers) > 0:
		f.Blocked = strings.Join(blockers, "; ")
		f.Title += " (blocked)"
	case len(manual) > 0:
		f.Manual = strings.Join(manual, "; ")
	default:
		f.Edits = dedupe(edits)
	}
	a.add(f)
}
