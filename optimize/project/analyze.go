package project

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// Plan is the result of analysing a project: what was detected, what was
// found, and the edits that fix it. It holds the original content of each
// file it edits, so applying it can check that nothing changed meanwhile.
type Plan struct {
	Dir      string    `json:"-"`
	Project  Project   `json:"project"`
	Findings []Finding `json:"findings"`
	Skipped  []Skipped `json:"not_understood"`

	originals map[string][]byte
	// refusals are build files that are symbolic links or not files:
	// while there is one, the plan cannot be applied (see Refusal).
	refusals []error
}

// analyzer holds the parsed files while findings are built.
type analyzer struct {
	dir    string
	plan   *Plan
	tree   *tree
	text   []*textFile
	yamls  []*yamlFile
	cargos []*cargoFile
	// cargoConfigs are .cargo/config.toml and .cargo/config (Rust only).
	cargoConfigs []*cargoConfig
	// fnopt is the project's own fnopt.yaml (Rust only), nil without one.
	fnopt   *config.Config
	fns     []*function
	sources map[string][]byte
}

// Analyze detects how the project in dir is built and what it targets,
// and plans the changes that bring it to fnopt's tuned settings. It reads
// only; nothing is written.
func Analyze(dir string) (*Plan, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: give the function's folder", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is a file: give the function's folder", dir)
	}
	t, err := walk(dir)
	if err != nil {
		return nil, err
	}
	a := &analyzer{dir: dir, tree: t, sources: map[string][]byte{},
		plan: &Plan{Dir: dir, Skipped: t.skipped, originals: map[string][]byte{}, refusals: t.refusals}}
	switch {
	case len(t.goMods) > 0 && (len(t.cargos) == 0 || t.goMods[0] == "go.mod"):
		a.plan.Project.Language = "go"
		a.plan.Project.Modules = t.goMods
	case len(t.cargos) > 0:
		a.plan.Project.Language = "rust"
		a.plan.Project.Modules = t.cargos
	default:
		return nil, fmt.Errorf("%s: %w (no go.mod or Cargo.toml): run fnopt optimize in a Go or Rust function's folder", dir, ErrNotFunction)
	}
	if err := a.parse(); err != nil {
		return nil, err
	}
	a.detectTargets()
	if a.plan.Project.Language == "go" {
		a.goFindings()
	} else {
		a.rustFindings()
	}
	a.runtimeFindings()
	a.binaryFindings()
	a.holdBackForGo1x()
	for i := range a.plan.Findings {
		a.plan.Findings[i].Evidence = uniqueEvidence(a.plan.Findings[i].Evidence)
	}
	sortFindings(a.plan.Findings)
	for _, f := range a.plan.Findings {
		for _, e := range f.Edits {
			a.plan.originals[e.File] = a.sources[e.File]
		}
	}
	sort.Slice(a.plan.Skipped, func(i, j int) bool { return a.plan.Skipped[i].File < a.plan.Skipped[j].File })
	return a.plan, nil
}

func (a *analyzer) read(rel string) ([]byte, error) {
	b, err := readFile(a.dir, rel)
	if err != nil {
		return nil, err
	}
	a.sources[rel] = b
	return b, nil
}

var buildWordsRE = regexp.MustCompile(`\b(go|GO|GOCMD|cargo|CARGO)\b[^\n]*\bbuild\b`)

var moduleRE = regexp.MustCompile(`(?m)^module[ \t]+"?([^\s"]+)"?`)

// parse reads every build file. Malformed YAML or TOML in a file that
// says how the function is built is an error: a plan made without it
// would be wrong.
func (a *analyzer) parse() error {
	p := &a.plan.Project
	for _, group := range []struct {
		files []string
		kind  fileKind
		name  string
	}{{a.tree.makefiles, kindMakefile, "makefile"}, {a.tree.scripts, kindShell, "script"}, {a.tree.docker, kindDockerfile, "dockerfile"}} {
		for _, rel := range group.files {
			src, err := a.read(rel)
			if err != nil {
				return err
			}
			f := newTextFile(rel, group.kind, src)
			var what []string
			for _, b := range f.goBuilds() {
				what = append(what, fmt.Sprintf("go build at line %d", f.lines.line(b.goWord().start)))
			}
			for _, b := range f.cargoBuilds() {
				what = append(what, fmt.Sprintf("%s at line %d", strings.Join(wordVals(b.words[:b.buildIdx+1]), " "), f.lines.line(b.words[0].start)))
			}
			if len(what) == 0 && group.kind != kindMakefile {
				continue // a script that builds nothing is not a build file
			}
			if len(what) == 0 && buildWordsRE.Match(src) {
				// Builds something, but not with a command fnopt can read
				// (GOBUILD = $(GOCMD) build, a wrapper script...).
				a.plan.Skipped = append(a.plan.Skipped, Skipped{File: rel,
					Reason: "mentions a build but has no go build or cargo build command fnopt can read (built through variables or a wrapper?): check its flags by hand"})
			}
			a.text = append(a.text, f)
			p.Build = append(p.Build, BuildFile{File: rel, Kind: group.name, Detail: strings.Join(what, ", ")})
		}
	}
	for _, rel := range a.tree.yamls {
		src, err := a.read(rel)
		if err != nil {
			return err
		}
		base := path.Base(rel)
		named := strings.HasPrefix(base, "template") || strings.HasPrefix(base, "serverless")
		y, err := parseYAML(rel, src)
		if err != nil {
			if named {
				return err
			}
			continue
		}
		switch {
		case y.isSAM():
			a.yamls = append(a.yamls, y)
			fns := y.samFunctions()
			a.fns = append(a.fns, fns...)
			p.Build = append(p.Build, BuildFile{File: rel, Kind: "sam", Detail: fmt.Sprintf("%d function(s)", len(fns))})
		case y.isServerless():
			a.yamls = append(a.yamls, y)
			fns := y.serverlessFunctions()
			a.fns = append(a.fns, fns...)
			p.Build = append(p.Build, BuildFile{File: rel, Kind: "serverless", Detail: fmt.Sprintf("%d function(s)", len(fns))})
		case named:
			a.plan.Skipped = append(a.plan.Skipped, Skipped{File: rel, Reason: "YAML that is neither a SAM template nor a serverless.yml for AWS: left alone"})
		}
	}
	for _, rel := range a.tree.cargos {
		src, err := a.read(rel)
		if err != nil {
			return err
		}
		c, err := parseCargo(rel, src)
		if err != nil {
			return err
		}
		a.cargos = append(a.cargos, c)
		p.Build = append(p.Build, BuildFile{File: rel, Kind: "cargo"})
	}
	if p.Language == "rust" {
		for _, rel := range a.tree.cargoConfigs {
			src, err := a.read(rel)
			if err != nil {
				return err
			}
			c, err := parseCargoConfig(rel, src)
			if err != nil {
				return err
			}
			a.cargoConfigs = append(a.cargoConfigs, c)
			p.Build = append(p.Build, BuildFile{File: rel, Kind: "cargo", Detail: "configuration"})
		}
		if err := a.readFnoptYAML(); err != nil {
			return err
		}
	}
	for _, rel := range a.tree.goMods {
		src, err := a.read(rel)
		if err != nil {
			return err
		}
		if m := moduleRE.FindSubmatch(src); m != nil && p.ModulePath == "" {
			p.ModulePath = string(m[1])
		}
		if strings.Contains(string(src), "github.com/aws/aws-lambda-go ") {
			p.LambdaGo = true
		}
	}
	return nil
}

// readFnoptYAML reads the project's fnopt.yaml, which says how fnopt
// builds the function (build.link): a choice stated there is not a
// finding. It is read, never written, so a link to it is followed; what
// is not a file is not opened (a named pipe would block the read).
func (a *analyzer) readFnoptYAML() error {
	fi, err := os.Stat(filepath.Join(a.dir, config.FileName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("reading %s: %w", config.FileName, err)
	case !fi.Mode().IsRegular():
		a.plan.Skipped = append(a.plan.Skipped, Skipped{File: config.FileName,
			Reason: modeName(fi.Mode()) + ", not a file: fnopt reads no build settings from it"})
		return nil
	}
	c, err := config.Load(a.dir)
	if err != nil {
		return fmt.Errorf("%w; correct %s, then run fnopt optimize again", err, config.FileName)
	}
	a.fnopt = c
	return nil
}

func wordVals(ws []word) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.val)
	}
	return out
}

// detectTargets records the functions the templates declare.
func (a *analyzer) detectTargets() {
	for _, fn := range a.fns {
		t := Target{File: fn.file.rel, Name: fn.name, Runtime: fn.runtime.value(), Handler: fn.handler.value(),
			Arch: fn.arch.value(), BuildMethod: fn.buildMethod}
		if t.Arch == "" {
			t.Arch = string(settings.X86_64) + " (default)"
		}
		if t.Runtime == "" && fn.packageType == "Image" {
			t.Runtime = "container image"
		}
		switch {
		case fn.runtime.key != nil:
			t.Line = fn.runtime.key.Line
		case fn.resource != nil:
			t.Line = fn.resource.Line
		}
		a.plan.Project.Functions = append(a.plan.Project.Functions, t)
	}
}

func (a *analyzer) add(f Finding) { a.plan.Findings = append(a.plan.Findings, f) }

// cgoUses returns where the project's own Go code imports "C".
func (a *analyzer) cgoUses() []Evidence {
	var out []Evidence
	fset := token.NewFileSet()
	for _, rel := range a.tree.goFiles {
		f, err := parser.ParseFile(fset, filepath.Join(a.dir, rel), nil, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"C"` {
				out = append(out, Evidence{File: rel, Line: fset.Position(imp.Pos()).Line, Text: `import "C"`})
			}
		}
	}
	return out
}

// binaryFindings reports shipped binaries that are UPX-packed or carry
// debug information, and build steps that pack with UPX.
func (a *analyzer) binaryFindings() {
	bins := findBinaries(a.dir, a.tree.binaries)
	upx := Finding{ID: "upx", rank: rankUPX, Title: "binary packed with UPX",
		Why:    "a UPX-packed binary must decompress itself into fresh memory on every cold start before main runs, and its pages cannot be shared or paged in lazily from the file",
		Effect: "cold start shorter by the decompression time (tens of ms for a 10 MB binary); the zip, which is compressed anyway, hardly grows"}
	for _, b := range bins {
		if b.upx {
			upx.Evidence = append(upx.Evidence, Evidence{File: b.rel, Text: "UPX! magic in the ELF header"})
		}
	}
	for _, f := range a.text {
		for _, c := range f.upxCmds() {
			upx.Evidence = append(upx.Evidence, f.evidence(c.words[0].start))
			s, e, ok := f.wholeLine(c)
			if !ok {
				upx.Manual = "remove the upx step from " + f.evidence(c.words[0].start).String()
				continue
			}
			upx.Edits = append(upx.Edits, Edit{File: f.rel, Line: f.lines.line(s), Start: s, End: e})
		}
	}
	if upx.Manual != "" {
		upx.Edits = nil
	}
	if len(upx.Evidence) > 0 {
		if len(upx.Edits) == 0 && upx.Manual == "" {
			upx.Manual = "rebuild without packing with UPX"
		}
		a.add(upx)
	}
	dbg := Finding{ID: "shipped-debug", rank: rankShippedDebug, Title: "shipped binary carries debug information",
		Why:    "symbols and DWARF are never used by Lambda but are uploaded, stored and mapped with the binary",
		Effect: "rebuilt with the tuned flags, the binary loses these sections"}
	for _, b := range bins {
		if d := b.describe(); d != "" && !b.upx {
			dbg.Evidence = append(dbg.Evidence, Evidence{File: b.rel, Text: d})
		}
	}
	if len(dbg.Evidence) > 0 {
		dbg.Manual = "rebuild and redeploy: the build findings above remove debug information from future builds"
		if !a.hasFinding("go-ldflags", "rust-profile", "debug-build") {
			dbg.Manual = "the build already strips binaries: this one is stale, rebuild and redeploy it"
		}
		a.add(dbg)
	}
}

func (a *analyzer) hasFinding(ids ...string) bool {
	for _, f := range a.plan.Findings {
		for _, id := range ids {
			if f.ID == id {
				return true
			}
		}
	}
	return false
}

// holdBackForGo1x: while a function stays on go1.x (its move could not be
// made automatically), changes that only work on a custom runtime must
// wait. go1.x starts the binary through the RPC server lambda.norpc
// removes, and it only runs on x86_64.
func (a *analyzer) holdBackForGo1x() {
	stays := false
	for _, f := range a.plan.Findings {
		if f.ID == "go1x-runtime" && !f.Applicable() {
			stays = true
		}
	}
	if !stays {
		return
	}
	for i := range a.plan.Findings {
		f := &a.plan.Findings[i]
		switch {
		case f.ID == "go-tags-norpc" && f.Applicable():
			f.Manual = "add it once the function runs on " + settings.Runtime + ": the go1.x runtime needs the RPC server it removes"
		case f.ID == "arch-arm64" && f.Blocked == "":
			f.Blocked = "the go1.x runtime only runs on x86_64: move to " + settings.Runtime + " first"
			f.Title += " (blocked)"
		}
	}
}

func uniqueEvidence(ev []Evidence) []Evidence {
	var out []Evidence
	seen := map[Evidence]bool{}
	for _, e := range ev {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}

// dedupe drops edits that repeat one already in the list (shared nodes,
// such as a SAM Globals runtime, are reached from several functions).
func dedupe(edits []Edit) []Edit {
	seen := map[[4]any]bool{}
	var out []Edit
	for _, e := range edits {
		k := [4]any{e.File, e.Start, e.End, e.New}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
	}
	return out
}
