package newcmd

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/config"
)

// execute runs `fnopt new args...` as the root command does and returns
// the exit status and what was printed.
func execute(t *testing.T, io *cmdutil.IOStreams, p Prompter, args ...string) int {
	t.Helper()
	root := &cobra.Command{Use: "fnopt", SilenceUsage: true, SilenceErrors: true}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.UsageError(cmdutil.FlagError(err)) })
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.AddCommand(newCmd(io, p))
	root.SetArgs(append([]string{"new"}, args...))
	return cmdutil.Report(io.ErrOut, root.Execute())
}

// tree lists every path under dir.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	sort.Strings(names)
	return strings.Join(names, "\n")
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no name", []string{"--yes"}, "fnopt: the function name is empty: pass a PATH or --name"},
		{"no name, no terminal", nil, "fnopt: the function name is empty: pass a PATH or --name (stdin is not a terminal, so fnopt new cannot ask)"},
		{"empty --name", []string{"--name", "", "x"}, "fnopt: the function name is empty: pass a PATH or --name"},
		{"path separator in --name", []string{"--name", "a/b"}, `fnopt: invalid name "a/b": a name cannot be "." or ".." or contain path separators`},
		{"dot dot", []string{"--name", ".."}, `fnopt: invalid name "..": a name cannot be "." or ".." or contain path separators`},
		{"upper case PATH", []string{"Hello"}, `fnopt: invalid name "Hello": use a lower-case letter followed by lower-case letters, digits, '-' or '_' (from PATH; pass --name to choose another)`},
		{"not a crate name", []string{"--name", "fn", "--lang", "rust"}, `fnopt: invalid name "fn": it is a Rust keyword; choose another name`},
		{"not a Go module", []string{"--name", "main", "--lang", "go"}, `fnopt: invalid name "main": as the Go module path, the go command reserves it; choose another name or give a module path such as github.com/you/main`},
		{"module std", []string{"x", "--module", "std"}, `fnopt: invalid --module "std": the go command reserves it; use a path like github.com/you/name`},
		{"not a package name", []string{"--name", "9lives"}, `fnopt: invalid name "9lives": use a lower-case letter followed by lower-case letters, digits, '-' or '_'`},
		{"lang", []string{"x", "--lang", "java"}, `fnopt: invalid --lang "java": use one of go, rust`},
		{"event", []string{"x", "--event", "sns"}, `fnopt: invalid --event "sns": use one of raw, http, url, sqs, s3, eventbridge`},
		{"arch", []string{"x", "--arch", "i386"}, `fnopt: invalid --arch "i386": use one of arm64, x86_64`},
		{"package", []string{"x", "--package", "tar"}, `fnopt: invalid --package "tar": use one of zip, image`},
		{"client", []string{"x", "--client", "tiny"}, `fnopt: invalid --client "tiny": use one of official, minimal`},
		{"link", []string{"x", "--lang", "rust", "--link", "musl"}, `fnopt: invalid --link "musl": use one of dynamic, static`},
		{"link of a Go function", []string{"x", "--link", "static"}, `fnopt: --link is for Rust functions: a Go bootstrap is always static (it links no C library); drop --link or use --lang rust`},
		{"module", []string{"x", "--module", "github.com/me/my fn"}, `fnopt: invalid --module "github.com/me/my fn": character ' ' is not allowed; use a path like github.com/you/name`},
		{"unknown flag", []string{"x", "--langs", "go"}, "fnopt: unknown flag: --langs"},
		{"two paths", []string{"x", "y"}, "fnopt: accepts at most 1 arg(s), received 2"},
		{"existing non-empty folder", []string{"taken"}, "fnopt: taken exists and is not empty: fnopt new never overwrites files; choose another PATH"},
		{"existing file", []string{"file"}, "fnopt: file exists and is a file: choose another PATH"},
		{"missing parent", []string{"no/such/x"}, "fnopt: cannot create no/such/x: the folder no/such does not exist; create it first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			os.Mkdir("taken", 0o755)
			os.WriteFile(filepath.Join("taken", "main.go"), []byte("package main\n"), 0o644)
			os.WriteFile("file", []byte("mine"), 0o644)
			before := tree(t, dir)
			io, _, out, errOut := cmdutil.Test()
			code := execute(t, io, nil, tc.args...)
			if code != cmdutil.ExitUsage {
				t.Errorf("exit status %d, want 2", code)
			}
			if got := errOut.String(); got != tc.want+"\n" {
				t.Errorf("stderr %q\nwant   %q", got, tc.want+"\n")
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q", out)
			}
			if after := tree(t, dir); after != before {
				t.Errorf("left behind:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}

func TestFlagsAndDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		dir  string // where the project lands, relative to the working dir
		want config.Config
	}{
		{"defaults", []string{"hello", "--yes"}, "hello", config.Config{Name: "hello", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}},
		{"no terminal, no --yes", []string{"hello"}, "hello", config.Config{Name: "hello", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}},
		{"every flag", []string{"sub/place", "--name", "jobs", "--lang", "rust", "--event", "sqs", "--arch", "x86_64", "--package", "image", "--client", "minimal", "--yes"}, "sub/place",
			config.Config{Name: "jobs", Language: "rust", Event: "sqs", Arch: "x86_64", Package: "image", Client: "minimal", Build: config.Build{Link: "dynamic"}}},
		{"--link static", []string{"st", "--lang", "rust", "--link", "static", "--yes"}, "st",
			config.Config{Name: "st", Language: "rust", Event: "raw", Arch: "arm64", Package: "zip", Client: "official", Build: config.Build{Link: "static"}}},
		{"--name without PATH", []string{"--name", "api", "--event", "http"}, "api", config.Config{Name: "api", Language: "go", Event: "http", Arch: "arm64", Package: "zip", Client: "official"}},
		{"empty folder", []string{"empty", "--yes"}, "empty", config.Config{Name: "empty", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}},
		// The aliases fnopt build and fnopt.yaml accept, written in Lambda's spelling.
		{"--arch amd64", []string{"a", "--arch", "amd64", "--yes"}, "a", config.Config{Name: "a", Language: "go", Event: "raw", Arch: "x86_64", Package: "zip", Client: "official"}},
		{"--arch aarch64", []string{"b", "--arch", "AArch64", "--yes"}, "b", config.Config{Name: "b", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			os.Mkdir("sub", 0o755)
			os.Mkdir("empty", 0o755)
			io, _, out, errOut := cmdutil.Test()
			if code := execute(t, io, nil, tc.args...); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			cfg, err := config.Load(tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			got := *cfg
			got.Budgets = config.Budgets{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fnopt.yaml: %+v, want %+v", got, tc.want)
			}
			if !strings.Contains(out.String(), "Created "+tc.want.Name+" in "+tc.dir) || !strings.Contains(out.String(), "cd "+tc.dir+"\n") {
				t.Errorf("output:\n%s", out)
			}
		})
	}
}

func TestModuleFlag(t *testing.T) {
	t.Chdir(t.TempDir())
	io, _, _, errOut := cmdutil.Test()
	if code := execute(t, io, nil, "api", "--module", "github.com/me/api", "--client", "minimal"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	mod, _ := os.ReadFile(filepath.Join("api", "go.mod"))
	if !strings.HasPrefix(string(mod), "module github.com/me/api\n") {
		t.Errorf("go.mod: %s", mod)
	}
}

// fakePrompter answers from a table and records what was asked.
type fakePrompter struct {
	answers map[string]string // by question message
	asked   []string
}

func (f *fakePrompter) answer(q Question) string {
	f.asked = append(f.asked, q.Message)
	if a, ok := f.answers[q.Message]; ok {
		return a
	}
	return q.Default
}

func (f *fakePrompter) Input(q Question, validate func(string) error) (string, error) {
	a := f.answer(q)
	if validate != nil {
		if err := validate(a); err != nil {
			return "", err
		}
	}
	return a, nil
}

func (f *fakePrompter) Select(q Question, choices []string, describe func(string) string) (string, error) {
	if q.Help == "" || strings.Contains(q.Help, "\n") || describe(q.Default) == "" {
		return "", errTestQuestion
	}
	return f.answer(q), nil
}

var errTestQuestion = errors.New("question without one-line help or notes")

func TestQuestions(t *testing.T) {
	all := []string{"Function name:", "Language:", "Event source:", "Architecture:", "Packaging:", "Runtime client:", "Go module path:"}
	for _, tc := range []struct {
		name    string
		args    []string
		tty     bool
		answers map[string]string
		asked   []string
		want    config.Config
		dir     string
		module  string // go.mod's module line's path; "" for no go.mod
	}{
		{"all asked", nil, true, map[string]string{"Function name:": "picked", "Event source:": "s3", "Runtime client:": "minimal"}, all,
			config.Config{Name: "picked", Language: "go", Event: "s3", Arch: "arm64", Package: "zip", Client: "minimal"}, "picked", "picked"},
		{"module path answered", []string{"shop"}, true, map[string]string{"Go module path:": "github.com/me/shop"}, all,
			config.Config{Name: "shop", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}, "shop", "github.com/me/shop"},
		{"--module is not asked", []string{"m", "--module", "example.com/m"}, true, nil, all[:6],
			config.Config{Name: "m", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}, "m", "example.com/m"},
		{"flags are not asked", []string{"mine", "--lang", "rust", "--arch", "x86_64"}, true, nil,
			[]string{"Function name:", "Event source:", "Packaging:", "Runtime client:", "Link glibc:"}, // Rust: no module
			config.Config{Name: "mine", Language: "rust", Event: "raw", Arch: "x86_64", Package: "zip", Client: "official", Build: config.Build{Link: "dynamic"}}, "mine", ""},
		{"Rust asks the link", []string{"rs", "--lang", "rust"}, true, map[string]string{"Link glibc:": "static"},
			[]string{"Function name:", "Event source:", "Architecture:", "Packaging:", "Runtime client:", "Link glibc:"},
			config.Config{Name: "rs", Language: "rust", Event: "raw", Arch: "arm64", Package: "zip", Client: "official", Build: config.Build{Link: "static"}}, "rs", ""},
		{"--link is not asked", []string{"rl", "--lang", "rust", "--link", "static"}, true, nil,
			[]string{"Function name:", "Event source:", "Architecture:", "Packaging:", "Runtime client:"},
			config.Config{Name: "rl", Language: "rust", Event: "raw", Arch: "arm64", Package: "zip", Client: "official", Build: config.Build{Link: "static"}}, "rl", ""},
		{"--name is not asked", []string{"--name", "n1", "dir1"}, true, nil, all[1:],
			config.Config{Name: "n1", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}, "dir1", "n1"},
		{"--yes asks nothing", []string{"quiet", "--yes"}, true, nil, nil,
			config.Config{Name: "quiet", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}, "quiet", "quiet"},
		{"no terminal asks nothing", []string{"quiet"}, false, nil, nil,
			config.Config{Name: "quiet", Language: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}, "quiet", "quiet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			io, _, _, errOut := cmdutil.Test()
			io.SetTTY(tc.tty, tc.tty, tc.tty)
			p := &fakePrompter{answers: tc.answers}
			if code := execute(t, io, p, tc.args...); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if strings.Join(p.asked, " ") != strings.Join(tc.asked, " ") {
				t.Errorf("asked %q, want %q", p.asked, tc.asked)
			}
			cfg, err := config.Load(tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			got := *cfg
			got.Budgets = config.Budgets{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("fnopt.yaml: %+v, want %+v", got, tc.want)
			}
			mod, _ := os.ReadFile(filepath.Join(tc.dir, "go.mod"))
			if first, _, _ := strings.Cut(string(mod), "\n"); tc.module != "" && first != "module "+tc.module || tc.module == "" && len(mod) > 0 {
				t.Errorf("go.mod starts %q, want module %q", first, tc.module)
			}
		})
	}
}

// The module path answered is checked by --module's rule, and refused
// in the same words.
func TestPromptedModuleIsValidated(t *testing.T) {
	t.Chdir(t.TempDir())
	io, _, _, errOut := cmdutil.Test()
	io.SetTTY(true, true, true)
	code := execute(t, io, &fakePrompter{answers: map[string]string{"Function name:": "ok", "Go module path:": "github.com/me/bad path"}})
	if code != 2 || !strings.Contains(errOut.String(), `invalid module path "github.com/me/bad path": character ' ' is not allowed`) {
		t.Errorf("exit %d, %s", code, errOut)
	}
	if _, err := os.Stat("ok"); err == nil {
		t.Error("a project was written with a refused module path")
	}
}

// Each runtime client's note says what it links, as the templates write
// the project's dependencies: the Rust minimal client uses serde too.
func TestClientNotesSayWhatIsLinked(t *testing.T) {
	for _, tc := range []struct {
		lang         config.Language
		client, want string
	}{
		{"go", "official", "github.com/aws/aws-lambda-go"},
		{"go", "minimal", "Go standard library only"},
		{"rust", "official", "lambda_runtime on tokio and hyper"},
		{"rust", "minimal", "std, serde and serde_json, no async runtime"},
	} {
		if got := clientNotes(tc.lang)[tc.client]; !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: note %q lacks %q", tc.lang, tc.client, got, tc.want)
		}
	}
}

func TestPromptedNameIsValidated(t *testing.T) {
	t.Chdir(t.TempDir())
	io, _, _, errOut := cmdutil.Test()
	io.SetTTY(true, true, true)
	code := execute(t, io, &fakePrompter{answers: map[string]string{"Function name:": "Bad Name"}})
	if code != 2 || !strings.Contains(errOut.String(), `invalid name "Bad Name"`) {
		t.Errorf("exit %d, %s", code, errOut)
	}
}
