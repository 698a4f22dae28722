package buildcmd

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/testenv"
)

// project writes a Go function project (testenv.GoProject) into a new
// folder; files add to or replace the defaults, and "" removes one.
func project(t *testing.T, files map[string]string) string {
	return testenv.GoProject(t, files)
}

// run runs `fnopt build args...` and returns the exit status and outputs.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ios, _, out, errOut := cmdutil.Test()
	cmd := NewCmd(ios)
	// As under the root command: errors are reported by Report only.
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	code := cmdutil.Report(errOut, cmd.Execute())
	return code, out.String(), errOut.String()
}

func buildJSON(t *testing.T, args ...string) *Report {
	t.Helper()
	code, out, errOut := run(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("fnopt build %v: exit %d\n%s", args, code, errOut)
	}
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	return &r
}

func TestBuildZip(t *testing.T) {
	dir := project(t, nil)
	code, out, errOut := run(t, dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"built hello (go, arm64)", "GOARCH=arm64", "-trimpath", filepath.Join(dir, "dist", "bootstrap"), filepath.Join(dir, "dist", "function.zip")} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("stderr not empty off a terminal: %q", errOut)
	}
	names := testenv.Entries(t, filepath.Join(dir, "dist"))
	if strings.Join(names, " ") != "bootstrap function.zip" {
		t.Errorf("dist holds %v, want bootstrap and function.zip only", names)
	}
}

func TestBuildJSON(t *testing.T) {
	// The --arch flag, in its Go spelling, overrides fnopt.yaml.
	a := buildJSON(t, project(t, nil), "--arch", "amd64")
	if a.Schema != Schema || a.Name != "hello" || a.Language != "go" || a.Arch != "x86_64" {
		t.Errorf("report header %+v", a)
	}
	if a.Bootstrap.Bytes == 0 || a.Zip.Bytes == 0 || a.Zip.Bytes >= a.Bootstrap.Bytes || len(a.Zip.SHA256) != 64 {
		t.Errorf("files: bootstrap %+v, zip %+v", a.Bootstrap, a.Zip)
	}
	if !strings.Contains(a.Settings.Command, "GOARCH=amd64") || a.Settings.Package != "." {
		t.Errorf("settings %+v", a.Settings)
	}
	if a.Image != nil {
		t.Error("image reported for a zip build")
	}
	// The document's field names are the contract: check them literally.
	code, out, _ := run(t, project(t, nil), "--json")
	if code != 0 {
		t.Fatal("build failed")
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "name", "language", "arch", "settings", "bootstrap", "zip"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
}

// refused is an address nothing listens on: a port taken and released.
func refused(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestBadInput(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "there.tar")
	if err := os.WriteFile(existing, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		files   map[string]string // nil: an empty folder
		args    []string
		wantErr string
		wantLog string // on stderr besides the one-line error
	}{
		{"not a project", nil, nil, "not a function project", ""},
		{"broken fnopt.yaml", map[string]string{"fnopt.yaml": "name: x\nlanguage: cobol\n"}, nil, `language "cobol" is not one of`, ""},
		{"unknown key in fnopt.yaml", map[string]string{"fnopt.yaml": "name: x\nlanguage: go\narhc: arm64\n"}, nil, `unknown key "arhc"`, ""},
		{"failing compiler", map[string]string{"main.go": "package main\n\nfunc main() { notDefined() }\n"}, nil, "go build failed", "undefined: notDefined"},
		{"no main package", map[string]string{"main.go": "", "lib.go": "package lib\n"}, nil, "no main package", ""},
		{"bad arch", map[string]string{}, []string{"--arch", "sparc"}, `invalid --arch "sparc": use one of arm64, x86_64`, ""},
		{"bad package", map[string]string{}, []string{"--package", "deb"}, `invalid --package "deb": use one of zip, image`, ""},
		{"destination exists", map[string]string{}, []string{"--image-out", "tar:" + existing}, "exists: remove it or choose another destination", ""},
		{"bad destination", map[string]string{}, []string{"--image-out", "oci:"}, "--image-out", ""},
		{"unreachable registry", map[string]string{}, []string{"--image-out", refused(t) + "/fn:v1", "--insecure"}, "cannot reach registry", ""},
		{"unreachable base", map[string]string{}, []string{"--package", "image", "--base", refused(t) + "/base:v1", "--insecure"}, "base image", ""},
		{"base without image", map[string]string{}, []string{"--base", "oci:x"}, "apply to images", ""},
		{"no CA certificates without image", map[string]string{}, []string{"--no-ca-certs"}, "--base, --no-ca-certs, --min-efficiency, --max-wasted and --max-user-wasted-percent apply to images: add --package image or --image-out DEST", ""},
		{"efficiency threshold without image", map[string]string{}, []string{"--max-wasted", "1MB"}, "apply to images: add --package image", ""},
		{"efficiency above 1", map[string]string{}, []string{"--package", "image", "--min-efficiency", "95"}, "--min-efficiency 95: give a ratio from 0 to 1, such as 0.9", ""},
		{"user wasted below 0", map[string]string{}, []string{"--package", "image", "--max-user-wasted-percent=-0.1"}, "--max-user-wasted-percent -0.1: give a ratio from 0 to 1", ""},
		{"wasted not a size", map[string]string{}, []string{"--package", "image", "--max-wasted", "lots"}, `--max-wasted "lots": not a size`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var dir string
			if c.files == nil {
				dir = t.TempDir()
			} else {
				dir = project(t, c.files)
			}
			code, out, errOut := run(t, append([]string{dir}, c.args...)...)
			if code != cmdutil.ExitUsage {
				t.Fatalf("exit %d, want 2\nstdout %s\nstderr %s", code, out, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "fnopt: ") || !strings.Contains(last, c.wantErr) {
				t.Errorf("error line %q, want one containing %q", last, c.wantErr)
			}
			if !strings.Contains(errOut, c.wantLog) {
				t.Errorf("stderr lacks %q:\n%s", c.wantLog, errOut)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
			// Nothing in dist/: no artifact, no staging folder.
			ents, _ := os.ReadDir(filepath.Join(dir, "dist"))
			for _, e := range ents {
				t.Errorf("dist/%s left after a failed build", e.Name())
			}
			if got, _ := os.ReadFile(existing); string(got) != "x" {
				t.Error("existing destination changed")
			}
		})
	}
}

// DIR relative to the working directory, as users type it.
func TestBuildRelativeDir(t *testing.T) {
	dir := project(t, nil)
	t.Chdir(filepath.Dir(dir))
	rel := filepath.Base(dir)
	code, out, errOut := run(t, rel, "--package", "image")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{filepath.Join(rel, "dist", "bootstrap"), "oci:" + filepath.Join(rel, "dist", "image"), "-o dist/bootstrap ."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "dist"))
	if len(ents) != 3 {
		t.Errorf("dist holds %d entries, want bootstrap, function.zip and image", len(ents))
	}
	// Nothing written anywhere else in the project.
	if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
		t.Errorf("%s/%s created: a path was resolved against the project instead of the working directory", dir, rel)
	}
}
