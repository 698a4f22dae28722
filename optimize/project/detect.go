package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNotFunction is returned for a folder with neither go.mod nor
// Cargo.toml.
var ErrNotFunction = errors.New("not a function folder")

// Project is what detection found: the language, how the function is
// built and what it targets.
type Project struct {
	Language   string      `json:"language"` // go or rust
	Modules    []string    `json:"modules"`  // go.mod or Cargo.toml files
	ModulePath string      `json:"module_path,omitempty"`
	LambdaGo   bool        `json:"aws_lambda_go,omitempty"` // go.mod requires aws-lambda-go
	Build      []BuildFile `json:"build"`
	Functions  []Target    `json:"functions"`
}

// BuildFile is a file that says how the function is built or deployed.
type BuildFile struct {
	File   string `json:"file"`
	Kind   string `json:"kind"` // makefile, script, dockerfile, sam, serverless, cargo
	Detail string `json:"detail,omitempty"`
}

// Target is one function declared in a template, with what it runs on.
type Target struct {
	File        string `json:"file"`
	Line        int    `json:"line"`
	Name        string `json:"name"`
	Runtime     string `json:"runtime"`
	Handler     string `json:"handler,omitempty"`
	Arch        string `json:"arch"`
	BuildMethod string `json:"build_method,omitempty"`
}

// Skipped is a file fnopt saw but does not understand, left alone.
type Skipped struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// tree is what a walk of the project folder collected.
type tree struct {
	goMods, cargos             []string
	cargoConfigs               []string // .cargo/config.toml, .cargo/config at the root
	makefiles, scripts, docker []string
	yamls                      []string
	goFiles                    []string
	binaries                   []string
	skipped                    []Skipped
	// refusals are why no plan can be applied: build files that are
	// symbolic links (*LinkError) or not files at all (*FileTypeError).
	refusals []error
}

// FileTypeError is why a plan cannot be applied when something with a
// build file's name is not a regular file: a folder, a named pipe, a
// socket or a device. fnopt cannot read it as part of the plan (a named
// pipe would block the read forever), so it changes none of the others
// either, as for a link (LinkError).
type FileTypeError struct {
	File string // relative to the project folder
	Kind string // "a folder", "a named pipe", ...
}

func (e *FileTypeError) Error() string {
	return fmt.Sprintf("%s is %s, not a file: fnopt reads build files only as regular files, so it changes none; "+
		"replace it with the file, or remove it, then run fnopt optimize again", e.File, e.Kind)
}

// modeName names a mode that is not a regular file's.
func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// LinkError is why a plan cannot be applied when one of the project's
// build files is a symbolic link. The plan is made over every build file,
// and a link can be neither read as part of it nor written: renaming a new
// file over the link would cut it from its target, and writing through it
// could change a file outside the project. So the plan is refused whole
// rather than applied to the other files only (a Makefile moved to arm64
// while the template it goes with stays on x86_64 would no longer deploy).
type LinkError struct {
	File    string // relative to the project folder
	Target  string // what the link points to, as written in it
	Outside bool   // the target is outside the project folder (or nowhere)
}

func (e *LinkError) Error() string {
	where := "inside the project"
	if e.Outside {
		where = "outside the project"
	}
	return fmt.Sprintf("%s is a symbolic link to %s (%s): fnopt edits no build file through a link, so it changes none; "+
		"replace the link with a copy of the file it points to, then run fnopt optimize again", e.File, e.Target, where)
}

// notUnderstood are build or deploy files fnopt does not read.
var notUnderstood = map[string]string{
	"serverless.ts": "Serverless configuration in TypeScript", "serverless.js": "Serverless configuration in JavaScript",
	"serverless.json": "Serverless configuration in JSON", "template.json": "CloudFormation template in JSON",
	"cdk.json": "AWS CDK app", "Taskfile.yml": "Taskfile", "Taskfile.yaml": "Taskfile", "justfile": "justfile",
	"Justfile": "justfile", "magefile.go": "Mage build", "Earthfile": "Earthfile", ".goreleaser.yml": "GoReleaser",
	".goreleaser.yaml": "GoReleaser", "main.tf": "Terraform", "Pulumi.yaml": "Pulumi",
}

var makefileRE = regexp.MustCompile(`^(GNUmakefile|[Mm]akefile|.*\.mk)$`)

const maxDepth = 5

func walk(dir string) (*tree, error) {
	t := &tree{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		generated := strings.HasPrefix(rel, ".aws-sam/") || strings.HasPrefix(rel, "target/")
		if strings.HasPrefix(rel, ".cargo/") && !isCargoConfig(rel) {
			// Only cargo's configuration: a CARGO_HOME kept here holds
			// registries and installed binaries, not the function's build.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if rel != "." && !generated && d.Type()&fs.ModeSymlink == 0 && !d.Type().IsRegular() &&
			(isBuildFileName(name) && notUnderstood[name] == "" || isCargoConfig(rel)) {
			// template.yaml as a folder, a Makefile as a named pipe: not
			// readable as the file it names, so no plan covers it.
			fe := &FileTypeError{File: rel, Kind: modeName(d.Type())}
			t.refusals = append(t.refusals, fe)
			t.skipped = append(t.skipped, Skipped{File: rel,
				Reason: fe.Kind + ", not a file: fnopt applies no plan while a build file is not one; replace it with the file"})
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			depth := strings.Count(rel, "/") + 1
			switch {
			case depth > maxDepth, name == ".git", name == "node_modules", name == "vendor", name == "testdata",
				strings.HasPrefix(name, ".") && name != ".aws-sam" && rel != ".cargo",
				// cargo's own folders hold thousands of intermediate files;
				// only cargo lambda's output is shipped as is.
				strings.HasPrefix(rel, "target/") && !strings.HasPrefix(rel, "target/lambda"):
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 && !generated && (linkedBuildFile(p, name) || isCargoConfig(rel) || rel == ".cargo" && holdsCargoConfig(p)) {
			// Replacing a link with a file would cut it from its target;
			// editing the target could change files outside the project.
			// The plan cannot cover this file, so it cannot be applied.
			link := newLinkError(dir, p, rel)
			t.refusals = append(t.refusals, link)
			t.skipped = append(t.skipped, Skipped{File: rel,
				Reason: "a symbolic link to " + link.Target + ": fnopt does not edit through links, and applies no plan while a build file is one; replace it with a copy of its file"})
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if generated {
			// Build output: only what would be shipped is of interest.
			if name == "bootstrap" || strings.HasSuffix(name, ".zip") {
				t.binaries = append(t.binaries, rel)
			}
			return nil
		}
		switch {
		case isCargoConfig(rel):
			t.cargoConfigs = append(t.cargoConfigs, rel)
		case name == "go.mod":
			t.goMods = append(t.goMods, rel)
		case name == "Cargo.toml":
			t.cargos = append(t.cargos, rel)
		case makefileRE.MatchString(name):
			t.makefiles = append(t.makefiles, rel)
		case strings.HasSuffix(name, ".sh"):
			t.scripts = append(t.scripts, rel)
		case name == "Dockerfile" || strings.HasPrefix(name, "Dockerfile.") || strings.HasSuffix(name, ".Dockerfile"):
			t.docker = append(t.docker, rel)
		case notUnderstood[name] != "":
			t.skipped = append(t.skipped, Skipped{File: rel, Reason: notUnderstood[name] + ": fnopt does not read it; check its build settings by hand"})
		case strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"):
			if !strings.Contains(rel, "/") || strings.HasPrefix(name, "template") || strings.HasPrefix(name, "serverless") {
				t.yamls = append(t.yamls, rel)
			}
		case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
			t.goFiles = append(t.goFiles, rel)
		case strings.HasSuffix(name, ".zip") || name == "bootstrap":
			t.binaries = append(t.binaries, rel)
		default:
			if info, err := d.Info(); err == nil && info.Mode().Perm()&0o111 != 0 {
				t.binaries = append(t.binaries, rel)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// newLinkError describes the link at path p (rel inside the project dir).
func newLinkError(dir, p, rel string) *LinkError {
	e := &LinkError{File: rel, Outside: true}
	e.Target, _ = os.Readlink(p)
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return e // leads nowhere: not inside the project either
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return e
	}
	if r, err := filepath.Rel(root, target); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
		e.Outside = false
	}
	return e
}

// linkedBuildFile reports whether the symbolic link at p, named name, is
// a build file the plan would have to read: one with a build file's name,
// except the files fnopt never reads (they are listed, link or not), and a
// script only when it builds something (a regular script that builds
// nothing is not a build file either). Reading a link's target is
// harmless; only writing through it is not.
func linkedBuildFile(p, name string) bool {
	switch {
	case !isBuildFileName(name) || notUnderstood[name] != "":
		return false
	case strings.HasSuffix(name, ".sh"):
		src, err := os.ReadFile(p)
		if err != nil {
			return false // leads nowhere: it builds nothing
		}
		f := newTextFile(name, kindShell, src)
		return len(f.goBuilds()) > 0 || len(f.cargoBuilds()) > 0
	}
	return true
}

// isCargoConfig reports whether rel is cargo's configuration at the
// project root, which cargo reads for a build started there (it also
// reads its parents' and CARGO_HOME's, which are not the project's).
func isCargoConfig(rel string) bool {
	return rel == ".cargo/config.toml" || rel == ".cargo/config"
}

// holdsCargoConfig reports whether the folder at p (a link to one)
// holds cargo's configuration.
func holdsCargoConfig(p string) bool {
	for _, n := range []string{"config.toml", "config"} {
		if _, err := os.Stat(filepath.Join(p, n)); err == nil {
			return true
		}
	}
	return false
}

// isBuildFileName reports whether a file name is one fnopt reads as a
// build or deploy file.
func isBuildFileName(name string) bool {
	return name == "go.mod" || name == "Cargo.toml" || makefileRE.MatchString(name) || strings.HasSuffix(name, ".sh") ||
		name == "Dockerfile" || strings.HasPrefix(name, "Dockerfile.") || strings.HasPrefix(name, "template.") ||
		strings.HasPrefix(name, "serverless.")
}

// readFile reads a project file for the plan.
func readFile(dir, rel string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", rel, err)
	}
	return b, nil
}
