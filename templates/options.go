package templates

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/environ"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/version"
)

// Options are the answers to `fnopt new`'s questions.
type Options struct {
	Name    string           // project and function name
	Lang    config.Language  // go | rust
	Event   string           // raw | http | url | sqs | s3 | eventbridge
	Arch    settings.Arch    // arm64 | x86_64
	Package config.Packaging // zip | image
	Client  config.Client    // official | minimal
	Module  string           // Go module path; defaults to Name
	// Link is how a Rust bootstrap links glibc: dynamic (empty means
	// that too) or static. Go functions have no choice: empty.
	Link config.Link
	// Fnopt is the fnopt that writes the project: the generated workflow
	// pins the fnopt Action to it. The zero Info means this binary's own
	// (version.Get).
	Fnopt version.Info
}

// Validate checks every option; the error names the option and its choices.
func (o Options) Validate() error {
	return o.Normalize()
}

// Normalize checks every option and puts each into its one spelling (an
// architecture alias becomes Lambda's name).
func (o *Options) Normalize() error {
	if err := ValidateName(o.Name); err != nil {
		return err
	}
	if err := validateNameFor(o.Lang, o.Name, o.Module); err != nil {
		return err
	}
	for _, name := range OptionNames {
		if err := o.Set(name, o.Get(name)); err != nil {
			return err
		}
	}
	if err := o.normalizeLink(); err != nil {
		return err
	}
	if o.Module != "" {
		return ValidateModule(o.Module)
	}
	return nil
}

// normalizeLink checks Link against the language: a Rust function's is
// parsed, empty meaning Rust's default; a Go function has none to choose.
func (o *Options) normalizeLink() error {
	switch {
	case o.Link == "":
		return nil
	case o.Lang == config.Go:
		return &OptionError{Option: "link", Err: config.ErrGoLink}
	}
	return o.Set("link", string(o.Link))
}

// OptionNames are the options with a fixed set of choices, by their flag
// names, in the order `fnopt new` asks them.
var OptionNames = []string{"lang", "event", "arch", "package", "client"}

// Choices lists the allowed values of each option that has a fixed set,
// by flag name; the first is the default.
var Choices = map[string][]string{
	"lang":    config.Languages,
	"event":   config.Events,
	"arch":    config.Arches,
	"package": config.Packages,
	"client":  config.Clients,
	"link":    config.Links, // Rust only, so not in OptionNames
}

// OptionError is a value refused for one of the options in Choices; Err is
// the *settings.ChoiceError of its parser, or config.ErrGoLink for a link
// chosen for a Go function.
type OptionError struct {
	Option string // "lang", "arch", ...
	Err    error
}

func (e *OptionError) Error() string { return e.Option + ": " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Set parses value with the option's parser (config's, or settings's for
// the architecture, so aliases are accepted as everywhere else) and sets
// it in its one spelling.
func (o *Options) Set(option, value string) error {
	var err error
	switch option {
	case "lang":
		o.Lang, err = config.ParseLanguage(value)
	case "event":
		o.Event, err = config.ParseEvent(value)
	case "arch":
		o.Arch, err = settings.ParseArch(value)
	case "package":
		o.Package, err = config.ParsePackaging(value)
	case "client":
		o.Client, err = config.ParseClient(value)
	case "link":
		o.Link, err = config.ParseLink(value)
	default:
		return fmt.Errorf("templates: no option %q", option)
	}
	if err != nil {
		return &OptionError{Option: option, Err: err}
	}
	return nil
}

// Get returns an option's value as it is spelled ("" when unset).
func (o *Options) Get(option string) string {
	switch option {
	case "lang":
		return string(o.Lang)
	case "event":
		return o.Event
	case "arch":
		return string(o.Arch)
	case "package":
		return string(o.Package)
	case "client":
		return string(o.Client)
	case "link":
		return string(o.Link)
	}
	return ""
}

// ModuleError is a Go module path the go command would refuse or misread.
type ModuleError struct {
	Module string
	Why    string
}

func (e *ModuleError) Error() string {
	return fmt.Sprintf("invalid module path %q: %s; use a path like github.com/you/name", e.Module, e.Why)
}

// ValidateModule accepts Go module paths such as "hello" or
// "github.com/me/hello": slash-separated elements of letters, digits and
// "-._~", none empty, "." or "..", not starting with a dot.
func ValidateModule(m string) error {
	bad := func(why string) error { return &ModuleError{Module: m, Why: why} }
	if len(m) > 256 {
		return bad("longer than 256 characters")
	}
	first, _, _ := strings.Cut(m, "/")
	if why, ok := goReserved(first); ok {
		return bad(why)
	}
	for _, elem := range strings.Split(m, "/") {
		switch {
		case elem == "":
			return bad("empty path element")
		case elem[0] == '.' || elem[len(elem)-1] == '.':
			return bad("an element starts or ends with a dot")
		}
		for _, r := range elem {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
				return bad(fmt.Sprintf("character %q is not allowed", r))
			}
		}
	}
	return nil
}

// Data is what templates see.
type Data struct {
	Options
	Runtime     string // provided.al2023
	Handler     string // bootstrap
	GOARCH      string // Go/OCI name of Arch
	RustTarget  string // Rust target triple for Arch
	RustLinker  string // C linker for the Rust target, empty when native
	GoTags      string
	GoLdflags   string
	RustProfile []settings.RustProfileKey
	RustFlags   string // RUSTFLAGS for the tuned build, linked as Link asks
	CrateName   string // Name with '-' turned into '_'
	LogicalID   string // CloudFormation logical ID of the function

	GoBuildCommand string         // the tuned `go build` writing $(DIST)/bootstrap, for Makefiles
	GoLambdaImport string         // import path of the Go runtime client (package lambda)
	GoEventsImport string         // import path of the Go event types (package events)
	Budgets        config.Budgets // fnopt.yaml's budgets

	// ActionRef is the ref the workflow's `uses: fnopt/fnopt@` pins;
	// ActionNote, when set, is a comment above it saying why it is not a
	// release.
	ActionRef  string
	ActionNote string
}

func newData(o Options) Data {
	if o.Module == "" {
		o.Module = o.Name
	}
	arch := o.Arch
	if o.Fnopt == (version.Info{}) {
		o.Fnopt = version.Get()
	}
	if o.Lang == config.Rust && o.Link == "" {
		o.Link = config.LinkDynamic // Rust's default, written out in fnopt.yaml
	}
	ref, note := actionRef(o.Fnopt)
	lambdaImport, eventsImport := "github.com/aws/aws-lambda-go/lambda", "github.com/aws/aws-lambda-go/events"
	if o.Client == "minimal" {
		lambdaImport, eventsImport = o.Module+"/internal/lambda", o.Module+"/internal/events"
	}
	return Data{
		Options:     o,
		Runtime:     settings.Runtime,
		Handler:     settings.Handler,
		GOARCH:      arch.GOARCH(),
		RustTarget:  arch.RustTarget(),
		RustLinker:  arch.RustLinker(),
		GoTags:      settings.GoTags,
		GoLdflags:   settings.GoLdflags,
		RustProfile: settings.RustProfile(),
		RustFlags:   strings.Join(settings.RustFlags(o.Link.Static()), " "),
		CrateName:   strings.ReplaceAll(o.Name, "-", "_"),
		LogicalID:   environ.LogicalID(o.Name),

		// $(GO), as the Makefile's other targets, so `make GO=go1.27` works.
		GoBuildCommand: settings.Go(arch).CommandWith("$(GO)", "$(DIST)/bootstrap", "."),
		GoLambdaImport: lambdaImport,
		GoEventsImport: eventsImport,
		Budgets:        budgets(o),
		ActionRef:      ref,
		ActionNote:     note,
	}
}

// actionRef is the ref of the fnopt Action a new project's workflow uses:
// the release that wrote the project, so its gate keeps measuring with
// the fnopt the project was made with until someone moves it on. A
// development build pins the commit it was built from; one that does not
// know its commit can only follow main, and the note says so.
func actionRef(fnopt version.Info) (ref, note string) {
	if tag, ok := fnopt.Release(); ok {
		return tag, ""
	}
	who := "a development build of fnopt"
	if fnopt.Version != version.Devel {
		who = "fnopt " + fnopt.Version + ", a development build,"
	}
	if commit, ok := fnopt.Commit(); ok {
		return commit, who + " wrote this: pinned to its commit; pin a release tag (vX.Y.Z) when there is one"
	}
	return "main", who + " wrote this and does not know its commit, so the gate follows main; pin a release tag (vX.Y.Z)"
}

// budgets are a new project's fnopt.yaml budgets. An image's size has
// none: what verify builds and measures is the zip, so nothing would
// check it.
func budgets(o Options) config.Budgets {
	b := config.DefaultBudgets(o.Lang, o.Client, o.Link)
	if o.Package == config.Image {
		b.ArtifactBytes = 0
	}
	return b
}

// ErrEmptyName is ValidateName's error for an empty name.
var ErrEmptyName = errors.New("the function name is empty")

// ValidateName accepts names that are valid as a folder, a Go package path
// element, a Cargo package name and (through environ.LogicalID) a CloudFormation
// logical ID: a lower-case letter, then lower-case letters, digits, '-' or
// '_', at most 64 characters.
func ValidateName(name string) error {
	switch {
	case name == "":
		return ErrEmptyName
	case name == "." || name == ".." || strings.ContainsAny(name, `/\`):
		return fmt.Errorf("invalid name %q: a name cannot be \".\" or \"..\" or contain path separators", name)
	case len(name) > 64:
		return fmt.Errorf("invalid name %q: at most 64 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_')
		if !ok {
			return fmt.Errorf("invalid name %q: use a lower-case letter followed by lower-case letters, digits, '-' or '_'", name)
		}
	}
	if why, ok := reserved(name); ok {
		return fmt.Errorf("invalid name %q: %s; choose another name", name, why)
	}
	return nil
}

// validateNameFor applies the rules of the project's language to its name:
// Rust's to the Cargo package name, Go's to the module path the name
// becomes when no module path is given.
func validateNameFor(lang config.Language, name, module string) error {
	switch lang {
	case "rust":
		if why, ok := rustReserved(name); ok {
			return fmt.Errorf("invalid name %q: %s; choose another name", name, why)
		}
	case "go":
		if module != "" {
			return nil // the name is only the folder's and the stack's
		}
		if why, ok := goReserved(name); ok {
			return fmt.Errorf("invalid name %q: as the Go module path, %s; choose another name or give a module path such as github.com/you/%s", name, why, name)
		}
	}
	return nil
}

// reserved says why a name is refused whatever the language: Windows
// cannot create such a folder.
func reserved(name string) (why string, ok bool) {
	switch name {
	case "con", "prn", "aux", "nul":
		return "it is a reserved file name on Windows", true
	}
	return "", false
}

// rustReserved says why Cargo refuses or misreads a package name that
// passes the character rules; ok is false for a usable name.
func rustReserved(name string) (why string, ok bool) {
	switch strings.ReplaceAll(name, "-", "_") {
	case "std", "core", "alloc", "proc_macro", "test":
		return "it is a standard library crate", true
	case "build", "deps", "examples", "incremental":
		return "Cargo reserves it for its build folders", true
	case "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
		"false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
		"return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
		"while", "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
		"typeof", "unsized", "virtual", "yield":
		return "it is a Rust keyword", true
	}
	return "", false
}

// goReserved says why the go command refuses or misreads a module path
// whose first element is elem: the go command resolves a first element
// without a dot that names a standard-library package in GOROOT, and
// treats a few words as its own.
func goReserved(elem string) (why string, ok bool) {
	switch elem {
	case "std", "cmd", "all", "main", "tool", "toolchain":
		return "the go command reserves it", true
	}
	if stdTopLevel[elem] {
		return "it is a standard library package", true
	}
	return "", false
}

// stdTopLevel is the first element of every standard-library package path
// (`go list std | cut -d/ -f1 | sort -u`); a test keeps it in step with the
// installed Go.
var stdTopLevel = map[string]bool{
	"archive": true, "bufio": true, "bytes": true, "cmp": true, "compress": true, "container": true,
	"context": true, "crypto": true, "database": true, "debug": true, "embed": true, "encoding": true,
	"errors": true, "expvar": true, "flag": true, "fmt": true, "go": true, "hash": true, "html": true,
	"image": true, "index": true, "internal": true, "io": true, "iter": true, "log": true, "maps": true,
	"math": true, "mime": true, "net": true, "os": true, "path": true, "plugin": true, "reflect": true,
	"regexp": true, "runtime": true, "slices": true, "sort": true, "strconv": true, "strings": true,
	"structs": true, "sync": true, "syscall": true, "testing": true, "text": true, "time": true,
	"unicode": true, "unique": true, "unsafe": true, "vendor": true, "weak": true, "builtin": true,
}
