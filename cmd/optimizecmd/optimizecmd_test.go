package optimizecmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/schematest"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/optimize/project"
	"github.com/fnopt/fnopt/optimize/project/projecttest"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = filepath.Dir(dir)
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	if err := project.CopyTree(filepath.Join(repoRoot(t), "examples", name), dst, nil); err != nil {
		t.Fatal(err)
	}
	return dst
}

func checksum(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	var names []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		names = append(names, p)
		return err
	})
	sort.Strings(names)
	for _, p := range names {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(p + fi.Mode().String()))
		if fi.Mode().IsRegular() {
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// execute runs `fnopt optimize args...` and returns its output and exit
// status as main would.
func execute(t *testing.T, w project.Writer, args ...string) (string, string, int) {
	t.Helper()
	return executeContext(context.Background(), t, w, args...)
}

// executeContext is execute with the context the command runs in.
func executeContext(ctx context.Context, t *testing.T, w project.Writer, args ...string) (string, string, int) {
	t.Helper()
	ios, _, out, errOut := cmdutil.Test()
	cmd := newCmd(ios, w)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	code := cmdutil.Report(errOut, cmd.ExecuteContext(ctx))
	return out.String(), errOut.String(), code
}

func TestPlanDiffApply(t *testing.T) {
	dir := fixture(t, "legacy-go-sam")
	before := checksum(t, dir)
	out, _, code := execute(t, project.OSWriter{}, dir, "--init=false", "--diff")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"[go1x-runtime]", "template.yaml:22  Runtime: go1.x", "[go-ldflags]", "+      Runtime: provided.al2023",
		"-o bin/bootstrap", "6 finding(s) can be fixed automatically"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if checksum(t, dir) != before {
		t.Fatal("the plan wrote to the project without --apply")
	}
	out, _, code = execute(t, project.OSWriter{}, dir, "--init=false", "--apply")
	if code != 0 || !strings.Contains(out, "Applied 6 finding(s): changed Makefile, template.yaml.") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, _, code = execute(t, project.OSWriter{}, dir, "--init=false", "--apply")
	if code != 0 || !strings.Contains(out, "Nothing to apply.") {
		t.Errorf("second --apply: exit %d:\n%s", code, out)
	}
}

func TestJSON(t *testing.T) {
	dir := fixture(t, "legacy-go-heavyinit")
	out, _, code := execute(t, project.OSWriter{}, dir, "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	schema := schematest.Load(t, "optimize.v1.schema.json")
	schema.Validate(t, []byte(out))
	// A Rust project's plan, and a plan applied.
	rust, _, code := execute(t, project.OSWriter{}, fixture(t, "legacy-rust"), "--init=false", "--json")
	if code != 0 {
		t.Fatalf("legacy-rust: exit %d", code)
	}
	schema.Validate(t, []byte(rust))
	applied, _, code := execute(t, project.OSWriter{}, fixture(t, "legacy-go-sam"), "--init=false", "--apply", "--json")
	if code != 0 {
		t.Fatalf("--apply: exit %d", code)
	}
	schema.Validate(t, []byte(applied))
	if !strings.Contains(applied, `"applied"`) {
		t.Errorf("--apply --json lists no applied files:\n%s", applied)
	}
	var doc Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Schema != Schema || doc.Project.Language != "go" || len(doc.Findings) != 3 || doc.Diff == "" {
		t.Errorf("document: %+v", doc)
	}
	if doc.Init == nil || len(doc.Init.Top) == 0 || doc.Init.Top[0].Package != "example.com/moderation/rules" {
		t.Errorf("init report: %+v (error %q)", doc.Init, doc.InitError)
	}
}

// TestJSONRustStaticGlibc: a Rust zip linked with static glibc, its flag
// in .cargo/config.toml: the finding and the configuration file are in a
// document the schema accepts, and --apply takes the flag out.
func TestJSONRustStaticGlibc(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Cargo.toml":         "[package]\nname = \"f\"\nversion = \"0.1.0\"\n",
		"src/main.rs":        "fn main() {}\n",
		".cargo/config.toml": "[build]\nrustflags = [\"-C\", \"target-feature=+crt-static\", \"-C\", \"link-arg=-s\"]\n",
	}
	testenv.WriteFiles(t, dir, files)
	schema := schematest.Load(t, "optimize.v1.schema.json")
	for _, args := range [][]string{{"--json"}, {"--json", "--apply"}} {
		out, errOut, code := execute(t, project.OSWriter{}, append([]string{dir, "--init=false"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		schema.Validate(t, []byte(out))
		var doc Document
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range doc.Findings {
			found = found || f.ID == "rust-static-glibc" && f.Status == "apply"
		}
		if !found {
			t.Errorf("%v: no applicable rust-static-glibc in %+v", args, doc.Findings)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, ".cargo", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "[build]\nrustflags = [\"-C\", \"link-arg=-s\"]\n"; string(got) != want {
		t.Errorf(".cargo/config.toml after --apply: %q, want %q", got, want)
	}
}

type failingWriter struct {
	project.OSWriter
	commits int
}

func (w *failingWriter) Commit(tmp, path string) error {
	w.commits++
	if w.commits == 2 {
		return errors.New("disk went away")
	}
	return w.OSWriter.Commit(tmp, path)
}

func TestBadInputExitsTwo(t *testing.T) {
	notFn := t.TempDir()
	os.WriteFile(filepath.Join(notFn, "notes.txt"), []byte("hi"), 0o644)
	badYAML := fixture(t, "legacy-go-sam")
	os.WriteFile(filepath.Join(badYAML, "template.yaml"), []byte("Resources: [\n"), 0o644)
	badTOML := fixture(t, "legacy-rust")
	os.WriteFile(filepath.Join(badTOML, "Cargo.toml"), []byte("[package\n"), 0o644)
	readOnly := fixture(t, "legacy-go-serverless")
	os.Chmod(filepath.Join(readOnly, "serverless.yml"), 0o444)
	interrupted := fixture(t, "legacy-go-sam")
	// The recipe: template.yaml moved out of the project, a link
	// left in its place. The Makefile must not be changed without it.
	linked := fixture(t, "legacy-go-sam")
	os.Mkdir(filepath.Join(filepath.Dir(linked), "outside"), 0o755)
	os.Rename(filepath.Join(linked, "template.yaml"), filepath.Join(filepath.Dir(linked), "outside", "t.yaml"))
	os.Symlink("../outside/t.yaml", filepath.Join(linked, "template.yaml"))
	tests := []struct {
		name string
		dir  string
		w    project.Writer
		args []string
		want string
	}{
		{"not a function", notFn, project.OSWriter{}, nil, "not a function folder"},
		{"malformed YAML", badYAML, project.OSWriter{}, nil, "template.yaml is not valid YAML"},
		{"malformed TOML", badTOML, project.OSWriter{}, nil, "Cargo.toml is not valid TOML"},
		{"read-only file", readOnly, project.OSWriter{}, []string{"--apply"}, "serverless.yml is read-only"},
		{"interrupted apply", interrupted, &failingWriter{}, []string{"--apply"}, "disk went away; every file was put back"},
		{"template linked outside", linked, project.OSWriter{}, []string{"--apply"}, "template.yaml is a symbolic link to ../outside/t.yaml (outside the project)"},
		{"missing folder", filepath.Join(notFn, "nope"), project.OSWriter{}, nil, "does not exist: give the function's folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before string
			if _, err := os.Stat(tt.dir); err == nil {
				before = checksum(t, tt.dir)
			}
			out, errOut, code := execute(t, tt.w, append([]string{tt.dir, "--init=false"}, tt.args...)...)
			if code != cmdutil.ExitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr %q, want one line with %q", errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if before != "" && checksum(t, tt.dir) != before {
				t.Error("files changed")
			}
		})
	}
}

func TestVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("builds twice and measures")
	}
	dir := fixture(t, "legacy-go-sam")
	before := checksum(t, dir)
	out, errOut, code := execute(t, project.OSWriter{}, dir, "--init=false", "--verify", "--samples", "3", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	schematest.Load(t, "optimize.v1.schema.json").Validate(t, []byte(out))
	var doc Document
	if err := json.NewDecoder(bytes.NewReader([]byte(out))).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	v := doc.Verify
	if v == nil || v.Before.BinaryBytes == 0 || v.After.BinaryBytes >= v.Before.BinaryBytes || v.After.Init.N != 3 || v.Before.Init.P50 <= 0 {
		t.Errorf("verify report: %+v", v)
	}
	// The plan moves the function to arm64: that build is run once under
	// qemu (make setup installs qemu-user-static).
	if v != nil && (v.Cross == nil || !v.Cross.Answered || v.Cross.BinaryBytes == 0) {
		t.Errorf("arm64 check: %+v", v.Cross)
	}
	if checksum(t, dir) != before {
		t.Error("--verify without --apply changed the project")
	}
}

// Without --apply the plan is shown, and its footer says that --apply
// will change nothing while a build file is a link.
func TestLinkedTemplateIsSaidInThePlan(t *testing.T) {
	dir := fixture(t, "legacy-go-sam")
	if err := os.Rename(filepath.Join(dir, "template.yaml"), filepath.Join(dir, "t.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("t.yaml", filepath.Join(dir, "template.yaml")); err != nil {
		t.Fatal(err)
	}
	out, _, code := execute(t, project.OSWriter{}, dir, "--init=false")
	want := "--apply changes nothing while template.yaml is a symbolic link: replace it with a copy of the file it points to."
	if code != 0 || !strings.Contains(out, want) || strings.Contains(out, "--apply makes them") {
		t.Errorf("exit %d, want 0 and %q:\n%s", code, want, out)
	}
}

// TestInterruptedWhileApplying: an interrupt that arrives once the plan is
// being written does not stop it halfway; the plan is applied in full, and
// the exit status says so (0, with a line on stderr), not 2 or 130, which
// mean every file was left as it was.
func TestInterruptedWhileApplying(t *testing.T) {
	dir := fixture(t, "legacy-go-sam")
	before := checksum(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut, code := executeContext(ctx, t, projecttest.CancelOnCommit{Cancel: cancel}, dir, "--init=false", "--apply")
	if code != 0 {
		t.Errorf("exit %d, want 0: %s", code, errOut)
	}
	if ctx.Err() == nil {
		t.Fatal("the writer never cancelled: nothing was written")
	}
	if !strings.Contains(errOut, "interrupted after the plan was applied in full; every file is changed") {
		t.Errorf("stderr %q does not say the plan was applied in full", errOut)
	}
	if !strings.Contains(out, "Applied 6 finding(s)") {
		t.Errorf("stdout lacks what was applied:\n%s", out)
	}
	if checksum(t, dir) == before {
		t.Fatal("no file changed")
	}
	if again, _, code := execute(t, project.OSWriter{}, dir, "--init=false", "--apply"); code != 0 || !strings.Contains(again, "Nothing to apply.") {
		t.Errorf("after the interrupted apply, the plan still has edits (exit %d):\n%s", code, again)
	}
}
