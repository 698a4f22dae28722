// Package config reads and checks fnopt.yaml, the file in a function's
// project that says what it is (language, event source, client flavour)
// and how it ships (architecture, packaging), plus the budgets that
// `fnopt verify` gates on.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fnopt/fnopt/internal/function/environ"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// FileName is the name of the configuration file in a project's root.
const FileName = "fnopt.yaml"

// Language is what a function is written in.
type Language string

// Packaging is how a function ships to Lambda.
type Packaging string

// Client is the Runtime API client of a generated function: AWS's library
// or fnopt's small one written into the project.
type Client string

const (
	Go   Language = "go"
	Rust Language = "rust"

	Zip   Packaging = "zip"
	Image Packaging = "image"

	Official Client = "official"
	Minimal  Client = "minimal"
)

// Choices for each setting, in the order a user is offered them; the first
// is the default.
var (
	Languages = []string{string(Go), string(Rust)}
	Events    = []string{"raw", "http", "url", "sqs", "s3", "eventbridge"}
	Arches    = settings.Arches
	Packages  = []string{string(Zip), string(Image)}
	Clients   = []string{string(Official), string(Minimal)}
	// Links are build.link's values, for Rust functions only: Rust's
	// default, dynamic glibc, first.
	Links = []string{string(LinkDynamic), string(LinkStatic)}
)

// ParseLanguage, ParsePackaging, ParseClient and ParseEvent accept a
// setting's value as fnopt.yaml, flags and questions spell it; the error is
// a *settings.ChoiceError naming the choices. Architectures are parsed by
// settings.ParseArch.
func ParseLanguage(s string) (Language, error) {
	v, err := choose("language", s, Languages)
	return Language(v), err
}

func ParsePackaging(s string) (Packaging, error) {
	v, err := choose("packaging", s, Packages)
	return Packaging(v), err
}

func ParseClient(s string) (Client, error) {
	v, err := choose("runtime client", s, Clients)
	return Client(v), err
}

// ParseLink accepts build.link's values (a Rust function's link of
// glibc).
func ParseLink(s string) (Link, error) {
	v, err := choose("link", s, Links)
	return Link(v), err
}

func ParseEvent(s string) (string, error) {
	return choose("event source", s, Events)
}

func choose(what, s string, choices []string) (string, error) {
	for _, c := range choices {
		if s == c {
			return s, nil
		}
	}
	return "", &settings.ChoiceError{What: what, Value: s, Choices: choices}
}

// Budgets are absolute limits `fnopt verify` enforces; zero means none.
type Budgets struct {
	InitP50Ms     float64 `yaml:"init_p50_ms,omitempty" json:"init_p50_ms,omitempty"`
	InitP90Ms     float64 `yaml:"init_p90_ms,omitempty" json:"init_p90_ms,omitempty"`
	ArtifactBytes int64   `yaml:"artifact_bytes,omitempty" json:"artifact_bytes,omitempty"`
}

// DefaultBudgets are the budgets a new project's fnopt.yaml starts with:
// the one source of them (templates render these values).
//
// artifact_bytes is about 1.5 times the zip of the scaffold's largest event
// variant, rounded, so that a dependency that doubles the size is caught
// but ordinary growth is not; the sizes are measured by the templates'
// size benchmark (templates/size_bench_test.go) for Go and Rust minimal.
// The Rust official flavour cannot be compiled where fnopt's tests run
// (its crates are not packaged), so its value is not derived from a
// measurement here. The init budgets are ceilings against gross mistakes
// (an init that calls the network or reads a large file), not a measured
// figure plus a margin: a local cold start varies tenfold and more with
// the machine's load (a new Go function's init p50 was 30 ms (minimal) and
// 85 ms (official) at load 16 on this project's 2-core machine, p90 145 and
// 282 ms, against under 2 ms when quieter; docs/verify.md), and a new
// project must not fail its own verify on a busy runner. Regressions smaller than that are the
// gate's job (verify --against), which measures both sides interleaved.
//
// A Rust function that links glibc statically (build.link: static) gets
// 500 KB more: static glibc took the Rust minimal zip from 189 to 592 KiB
// in the cold-start benchmark (docs/bench.md), and the templates' Rust
// test checks that a static minimal zip fits.
func DefaultBudgets(lang Language, client Client, link Link) Budgets {
	b := Budgets{InitP50Ms: 200, InitP90Ms: 1000}
	if client == Minimal {
		b = Budgets{InitP50Ms: 100, InitP90Ms: 500}
	}
	switch {
	case lang == Go && client == Official:
		b.ArtifactBytes = 4_500_000
	case lang == Go:
		b.ArtifactBytes = 1_500_000
	case client == Official:
		b.ArtifactBytes = 3_000_000
	default:
		b.ArtifactBytes = 500_000
	}
	if lang == Rust && link.Static() {
		b.ArtifactBytes += 500_000
	}
	return b
}

// Config is the content of fnopt.yaml.
type Config struct {
	Name     string        `yaml:"name"`
	Language Language      `yaml:"language"`
	Event    string        `yaml:"event,omitempty"`
	Arch     settings.Arch `yaml:"arch"`
	Package  Packaging     `yaml:"package"`
	Client   Client        `yaml:"client,omitempty"`
	Budgets  Budgets       `yaml:"budgets,omitempty"`
	// Env is the function's own environment variables, as its Lambda
	// configuration sets them; `fnopt verify` applies them over
	// template.yaml's Environment.
	Env   map[string]string `yaml:"env,omitempty"`
	AWS   AWS               `yaml:"aws,omitempty"`
	Build Build             `yaml:"build,omitempty"`
}

// Build says which program of a repository is the function and how to
// compile it, for repositories that hold several functions: each
// function's folder has its own fnopt.yaml naming its main package (Go)
// or binary target (Rust), as SAM's CodeUri and cargo-lambda's --bin do.
type Build struct {
	// Main is the Go main package, a path relative to the folder of
	// fnopt.yaml as `go build` takes it (./cmd/orders, ../cmd/orders).
	Main string `yaml:"main,omitempty"`
	// Bin is the Cargo binary target ([[bin]] name) of a Rust function.
	Bin string `yaml:"bin,omitempty"`
	// Tags are Go build tags added to fnopt's own (lambda.norpc).
	Tags []string `yaml:"tags,omitempty"`
	// Ldflags are Go linker flags added after fnopt's own (-s -w
	// -buildid=), so a -X main.version=... can be set.
	Ldflags string `yaml:"ldflags,omitempty"`
	// Link is how a Rust bootstrap links its C library: "static" (glibc
	// linked in, no loader at start) or empty, Rust's default (dynamic
	// glibc, which Lambda's provided.al2023 has). Go bootstraps are always
	// static. docs/rust.md weighs the two with measurements.
	Link Link `yaml:"link,omitempty"`
}

// Link is build.link: how a Rust bootstrap links its C library.
type Link string

// The links build.link takes; empty is the language's default.
const (
	LinkStatic  Link = "static"
	LinkDynamic Link = "dynamic"
)

// ErrGoLink refuses a link choice for a Go function, which has none.
var ErrGoLink = errors.New("a Go bootstrap is always static (it links no C library)")

// Static says whether the bootstrap is linked statically by request.
func (l Link) Static() bool { return l == LinkStatic }

// ProgramKey is fnopt.yaml's key that names the function's program for
// the language: build.main for Go, build.bin for Rust.
func (c *Config) ProgramKey() string {
	if c.Language == Rust {
		return "build.bin"
	}
	return "build.main"
}

// WithProgram returns a copy of c whose program is p (a Go package path or
// a Cargo binary target, as the language takes it); empty p keeps c's.
func (c *Config) WithProgram(p string) *Config {
	if p == "" {
		return c
	}
	cc := *c
	if c.Language == Rust {
		cc.Build.Bin = p
	} else {
		cc.Build.Main = p
	}
	return &cc
}

// AWS is what `fnopt verify --target aws` needs to deploy the function's
// temporary copies to Lambda.
type AWS struct {
	// Role is the ARN of the execution role Lambda runs them with.
	Role string `yaml:"role,omitempty"`
}

// Architecture returns the architecture (kept for callers that want the
// default when the field is empty).
func (c *Config) Architecture() settings.Arch {
	if c.Arch == "" {
		return settings.DefaultArch
	}
	return c.Arch
}

// Validate checks every field against its allowed values and puts each
// into its one spelling (an architecture alias becomes Lambda's name).
func (c *Config) Validate() error {
	field := func(key string, err error) error {
		var ce *settings.ChoiceError
		if errors.As(err, &ce) {
			return fmt.Errorf("%s: %s %q is not one of %v", FileName, key, ce.Value, ce.Choices)
		}
		return err
	}
	var err error
	if c.Language, err = ParseLanguage(string(c.Language)); err != nil {
		return field("language", err)
	}
	if c.Event != "" {
		if _, err := ParseEvent(c.Event); err != nil {
			return field("event", err)
		}
	}
	if c.Arch, err = settings.ParseArch(string(c.Arch)); err != nil {
		return field("arch", err)
	}
	if c.Package, err = ParsePackaging(string(c.Package)); err != nil {
		return field("package", err)
	}
	if c.Client != "" {
		if c.Client, err = ParseClient(string(c.Client)); err != nil {
			return field("client", err)
		}
	}
	if err := c.Build.validate(c.Language); err != nil {
		return err
	}
	for k := range c.Env {
		if err := environ.CheckKey(k); err != nil {
			return fmt.Errorf("%s: env: %w", FileName, err)
		}
	}
	if c.Budgets.InitP50Ms < 0 || c.Budgets.InitP90Ms < 0 || c.Budgets.ArtifactBytes < 0 {
		return fmt.Errorf("%s: budgets must not be negative", FileName)
	}
	return nil
}

// validate refuses the keys the language's build does not read, so that
// a setting is never silently ignored.
func (b Build) validate(lang Language) error {
	if lang == Rust {
		switch {
		case b.Main != "":
			return fmt.Errorf("%s: build.main names a Go package; a Rust function names its Cargo binary target with build.bin", FileName)
		case len(b.Tags) > 0 || b.Ldflags != "":
			return fmt.Errorf("%s: build.tags and build.ldflags are Go build settings; remove them from a Rust function (Cargo features and profiles live in Cargo.toml)", FileName)
		case b.Link != "":
			if _, err := ParseLink(string(b.Link)); err != nil {
				return fmt.Errorf("%s: build.link %q is not a link: give static or dynamic", FileName, b.Link)
			}
		}
		return nil
	}
	if b.Link != "" {
		return fmt.Errorf("%s: build.link chooses how a Rust bootstrap links glibc; %s: remove it", FileName, ErrGoLink)
	}
	if b.Bin != "" {
		return fmt.Errorf("%s: build.bin names a Cargo binary; a Go function names its main package with build.main (such as ./cmd/orders)", FileName)
	}
	for _, t := range b.Tags {
		if t == "" || strings.ContainsAny(t, " ,\t\"'") {
			return fmt.Errorf("%s: build.tags entry %q is not a Go build tag: give one tag per entry, without spaces or commas", FileName, t)
		}
	}
	return nil
}

// ErrNotProject is returned by Load for a folder with neither fnopt.yaml
// nor go.mod nor Cargo.toml.
var ErrNotProject = errors.New("not a function project")

// Load reads dir/fnopt.yaml; when it is absent it detects the language from
// go.mod or Cargo.toml and fills in the defaults. The result is validated.
func Load(dir string) (*Config, error) {
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	switch {
	case err == nil:
		return Parse(data)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("reading %s: %w", FileName, err)
	}
	c := &Config{Name: filepath.Base(absOr(dir)), Arch: settings.DefaultArch, Package: Zip}
	switch {
	case exists(filepath.Join(dir, "go.mod")):
		c.Language = Go
	case exists(filepath.Join(dir, "Cargo.toml")):
		c.Language = Rust
	default:
		return nil, fmt.Errorf("%s: %w (no %s, go.mod or Cargo.toml); run fnopt in a function's folder or create one with `fnopt new`", dir, ErrNotProject, FileName)
	}
	return c, nil
}

// Parse decodes and validates fnopt.yaml content. Unknown keys are errors,
// so a typo does not silently fall back to a default.
func Parse(data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid YAML: %v", FileName, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var c Config
	if len(doc.Content) > 0 {
		// Keys first, so that a typo is named with its line and the keys
		// that would be right, rather than as yaml's type error.
		if err := checkKeys(doc.Content[0], reflect.TypeOf(c)); err != nil {
			return nil, err
		}
		if err := doc.Content[0].Decode(&c); err != nil {
			return nil, fmt.Errorf("%s is not valid: %v", FileName, oneLine(err))
		}
	}
	if c.Arch == "" {
		c.Arch = settings.DefaultArch
	}
	if c.Package == "" {
		c.Package = Zip
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkKeys refuses a key of n, a mapping decoded into a struct of type t,
// that no field of t names: unknown keys are typos, never ignored.
func checkKeys(n *yaml.Node, t reflect.Type) error {
	if n.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return nil
	}
	fields := map[string]reflect.Type{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = t.Field(i).Type
		names = append(names, name)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		ft, ok := fields[key.Value]
		if !ok {
			return fmt.Errorf("%s line %d: unknown key %q: use one of %s", FileName, key.Line, key.Value, strings.Join(names, ", "))
		}
		if err := checkKeys(value, ft); err != nil {
			return err
		}
	}
	return nil
}

// oneLine joins yaml's multi-line type errors ("yaml: unmarshal errors:\n
// line 3: cannot unmarshal ...") into one line that keeps each line number.
func oneLine(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func absOr(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}
