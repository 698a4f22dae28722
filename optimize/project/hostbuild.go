package project

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// BuildFor compiles the function in dir the way its own build files do —
// the first `go build` or `cargo build` they contain, with its flags and
// environment — but for arch, into outDir. It returns the binary's path.
// It is how optimize's proof builds a project before and after the plan:
// the difference is only what the plan changes. Without a build command, a
// plain `go build` or `cargo build --release` is used. env is added to the
// compiler's environment. Only Go projects can be cross-built this way;
// Rust needs a cross toolchain (an error then).
func BuildFor(ctx context.Context, dir, outDir string, arch settings.Arch, env []string) (string, error) {
	t, err := walk(dir)
	if err != nil {
		return "", err
	}
	var files []*textFile
	for _, g := range []struct {
		rels []string
		kind fileKind
	}{{t.makefiles, kindMakefile}, {t.scripts, kindShell}, {t.docker, kindDockerfile}} {
		for _, rel := range g.rels {
			src, err := readFile(dir, rel)
			if err != nil {
				return "", err
			}
			files = append(files, newTextFile(rel, g.kind, src))
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", outDir, err)
	}
	if len(t.goMods) > 0 {
		return goHostBuild(ctx, dir, outDir, arch, t, files, env)
	}
	if len(t.cargos) > 0 {
		if arch != settings.HostArch() {
			return "", fmt.Errorf("building Rust for %s needs a cross toolchain: use fnopt build", arch)
		}
		return cargoHostBuild(ctx, dir, outDir, t, files, env)
	}
	return "", fmt.Errorf("%s: %w", dir, ErrNotFunction)
}

func goHostBuild(ctx context.Context, dir, outDir string, arch settings.Arch, t *tree, files []*textFile, env []string) (string, error) {
	out := filepath.Join(outDir, settings.Handler)
	cmdEnv := append(append(os.Environ(), env...), "GOOS=linux", "GOARCH="+arch.GOARCH())
	args := []string{"build"}
	pkgs := []string{"."}
	runDir := filepath.Join(dir, filepath.Dir(t.goMods[0]))
	for _, f := range files {
		bs := f.goBuilds()
		if len(bs) == 0 {
			continue
		}
		b := bs[0]
		for name, i := range b.prefix {
			if name == "GOOS" || name == "GOARCH" {
				continue
			}
			_, v, _ := isAssignment(b.words[i].val)
			cmdEnv = append(cmdEnv, name+"="+f.expand(v))
		}
		for _, name := range []string{"CGO_ENABLED", "GOFLAGS"} {
			if d, ok := f.env[name]; ok {
				if _, inPrefix := b.prefix[name]; !inPrefix {
					cmdEnv = append(cmdEnv, name+"="+f.expand(d.val))
				}
			}
		}
		isArg := map[int]bool{}
		for _, i := range b.args {
			isArg[i] = true
		}
		skip := -1
		if u, ok := b.flags["-o"]; ok {
			skip = u.valIdx
		}
		pkgs = nil
		for j := b.goIdx + 2; j < len(b.words); j++ {
			v := f.expand(b.words[j].val)
			if j == skip || v == "-o" || strings.HasPrefix(v, "-o=") {
				continue
			}
			if strings.Contains(v, "$") {
				return "", fmt.Errorf("%s: cannot repeat the build, %q refers to a variable fnopt does not know", f.evidence(b.words[j].start), v)
			}
			if isArg[j] {
				pkgs = append(pkgs, v)
			} else {
				args = append(args, v)
			}
		}
		runDir = filepath.Join(dir, filepath.Dir(f.rel))
		break
	}
	args = append(append(args, "-o", out), pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = runDir
	cmd.Env = cmdEnv
	return out, runBuild(cmd, "go "+strings.Join(args, " "))
}

func cargoHostBuild(ctx context.Context, dir, outDir string, t *tree, files []*textFile, env []string) (string, error) {
	release := true
	var extra, flagsEnv []string
	cross := false
	for _, f := range files {
		bs := f.cargoBuilds()
		if len(bs) == 0 {
			continue
		}
		release = bs[0].release()
		if p, ok := bs[0].has("--bin"); ok {
			extra = append(extra, "--bin", p)
		}
		flagsEnv = bs[0].rustflagsEnv()
		_, cross = bs[0].has("--target")
		break
	}
	manifest := t.cargos[0]
	bin, err := cargoBinName(filepath.Join(dir, manifest))
	if err != nil {
		return "", err
	}
	target := filepath.Join(outDir, "target")
	args := []string{"build", "--manifest-path", filepath.Join(dir, manifest)}
	if release {
		args = append(args, "--release")
	}
	args = append(args, extra...)
	// With --target, RUSTFLAGS reach the function only, not build scripts
	// and proc-macros (which +crt-static cannot build): as the project's
	// own build does when it names a target, and whenever it sets flags.
	triple := ""
	if cross || len(flagsEnv) > 0 {
		triple = settings.HostArch().RustTarget()
		args = append(args, "--target", triple)
	}
	cmd := exec.CommandContext(ctx, "cargo", args...)
	cmd.Dir = dir
	cmd.Env = append(append(append(os.Environ(), flagsEnv...), env...), "CARGO_TARGET_DIR="+target)
	if err := runBuild(cmd, "cargo "+strings.Join(args, " ")); err != nil {
		return "", err
	}
	profile := "debug"
	if release {
		profile = "release"
	}
	built := filepath.Join(target, triple, profile, bin)
	out := filepath.Join(outDir, settings.Handler)
	if err := os.Rename(built, out); err != nil {
		return "", fmt.Errorf("moving the built binary: %w", err)
	}
	return out, nil
}

// makeExportNameRE finds a Makefile's `export NAME` lines, which export a
// variable defined elsewhere in the file.
var makeExportNameRE = regexp.MustCompile(`(?m)^[ \t]*export[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*$`)

// rustflagsEnv returns the rustc flags variables (RUSTFLAGS and cargo's
// own) the cargo command gets from its build file: its NAME=value prefix,
// what the file exports, and in a Makefile a variable it exports by name
// (export RUSTFLAGS). The proof repeats the build with them, so that a
// change of flags (+crt-static taken out) is what it measures.
func (c *cargoBuildCmd) rustflagsEnv() []string {
	f := c.f
	vals := map[string]string{}
	if f.kind == kindMakefile {
		for _, m := range makeExportNameRE.FindAllSubmatch(f.src, -1) {
			name := string(m[1])
			if d, ok := f.vars[name]; ok && rustflagsVar(name) {
				vals[name] = d.val
			}
		}
	}
	for name, d := range f.env {
		if rustflagsVar(name) {
			vals[name] = d.val
			if v, ok := f.vars[name]; ok && len(v.val) > len(d.val) {
				vals[name] = v.val // export NAME := a b: the whole value
			}
		}
	}
	for _, w := range c.words[:c.buildIdx] {
		if name, v, ok := isAssignment(w.val); ok && rustflagsVar(name) {
			vals[name] = v
		}
	}
	var out []string
	for name, v := range vals {
		// RUSTFLAGS="$RUSTFLAGS -C …" adds to what the build was started
		// with: this process's environment, which the build gets too.
		v = refRE.ReplaceAllStringFunc(v, func(m string) string {
			if refName(m) == name {
				return os.Getenv(name)
			}
			return m
		})
		if v = f.expand(v); strings.Contains(v, "$") {
			// Made by make or the shell at build time ($(shell …)): not
			// repeated; the build runs with the environment's flags.
			continue
		}
		out = append(out, name+"="+v)
	}
	sort.Strings(out)
	return out
}

// cargoBinName is the name of the crate's first binary.
func cargoBinName(manifest string) (string, error) {
	b, err := os.ReadFile(manifest)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", manifest, err)
	}
	var m struct {
		Package struct{ Name string }
		Bin     []struct{ Name string }
	}
	if err := toml.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("%s is not valid TOML: %v", manifest, oneLine(err.Error()))
	}
	if len(m.Bin) > 0 && m.Bin[0].Name != "" {
		return m.Bin[0].Name, nil
	}
	return m.Package.Name, nil
}

func runBuild(cmd *exec.Cmd, what string) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// As every build: stopped gently when ctx ends, no go-build* left.
	if err := build.RunCompiler(cmd); err != nil {
		return fmt.Errorf("%s: %v: %s", what, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// CopyTree copies a project folder into dst (which must not exist),
// leaving out version control and build output folders. With changes,
// the copy gets the plan's new contents: a project as it would be after
// --apply, without touching the original.
func CopyTree(src, dst string, changes []FileChange) error {
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "target", ".aws-sam":
				if rel != "." {
					return filepath.SkipDir
				}
			}
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm()|0o200)
	})
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	for _, c := range changes {
		if err := os.WriteFile(filepath.Join(dst, c.File), c.New, 0o644); err != nil {
			return fmt.Errorf("copying %s: %w", src, err)
		}
	}
	return nil
}
