package templates

import (
	"fmt"
	"strings"

	"github.com/fnopt/fnopt/optimize/config"
	"github.com/fnopt/fnopt/optimize/settings"
)

// Options are the answers to `fnopt new`'s questions.
type Options struct {
	Name    string // project and function name
	Lang    string // go | rust
	Event   string // raw | http | url | sqs | s3 | eventbridge
	Arch    string // arm64 | x86_64
	Package string // zip | image
	Client  string // official | minimal
	Module  string // Go module path; defaults to Name
}

// Validate checks every option; the error names the option and its choices.
func (o Options) Validate() error {
	if err := ValidateName(o.Name); err != nil {
		return err
	}
	for _, c := range []struct {
		flag, v string
		allowed []string
	}{
		{"lang", o.Lang, config.Languages},
		{"event", o.Event, config.Events},
		{"arch", o.Arch, config.Arches},
		{"package", o.Package, config.Packages},
		{"client", o.Client, config.Clients},
	} {
		if !contains(c.allowed, c.v) {
			return fmt.Errorf("invalid --%s %q: use one of %s", c.flag, c.v, strings.Join(c.allowed, ", "))
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
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
	RustFlags   string // RUSTFLAGS for the tuned build
	CrateName   string // Name with '-' turned into '_'
	LogicalID   string // CloudFormation logical ID of the function

	GoBuildCommand string // the tuned `go build` writing $(DIST)/bootstrap, for Makefiles
	GoLambdaImport string // import path of the Go runtime client (package lambda)
	GoEventsImport string // import path of the Go event types (package events)
	ArtifactBudget int64  // fnopt.yaml's budgets.artifact_bytes
}

func newData(o Options) Data {
	if o.Module == "" {
		o.Module = o.Name
	}
	arch, _ := settings.ParseArch(o.Arch)
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
		RustFlags:   strings.Join(settings.RustRustflags(), " "),
		CrateName:   strings.ReplaceAll(o.Name, "-", "_"),
		LogicalID:   logicalID(o.Name),

		GoBuildCommand: settings.Go(arch).Command("$(DIST)/bootstrap", "."),
		GoLambdaImport: lambdaImport,
		GoEventsImport: eventsImport,
		ArtifactBudget: artifactBudget(o.Lang, o.Client),
	}
}

// artifactBudget is the artifact size budget written into a new
// fnopt.yaml: about 1.5 times what the scaffold's largest event variant
// measures (zip), rounded, so it catches a dependency that doubles the
// size but not ordinary growth.
func artifactBudget(lang, client string) int64 {
	switch {
	case lang == "go" && client == "official":
		return 4_500_000
	case lang == "go":
		return 1_500_000
	case client == "official":
		return 3_000_000
	default:
		return 500_000
	}
}

// logicalID turns "my-func_2" into "MyFunc2Function".
func logicalID(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			if up {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			up = false
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String() + "Function"
}

// ValidateName accepts names that are valid as a folder, a Go package path
// element, a Cargo package name and (through logicalID) a CloudFormation
// logical ID: a lower-case letter, then lower-case letters, digits, '-' or
// '_', at most 64 characters.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("the function name is empty: pass a PATH or --name")
	case name == "." || name == ".." || strings.ContainsAny(name, `/\`):
		return fmt.Errorf("invalid name %q: a name cannot contain path separators or be . or ..", name)
	case len(name) > 64:
		return fmt.Errorf("invalid name %q: at most 64 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_')
		if !ok {
			return fmt.Errorf("invalid name %q: use a lower-case letter followed by lower-case letters, digits, '-' or '_'", name)
		}
	}
	return nil
}
