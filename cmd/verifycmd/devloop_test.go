package verifycmd

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

// envEchoFunction is a Go Lambda function with no dependencies that
// answers each event with {"event": the event, "env": the variables of
// envNames that are set}, so a test sees what reached the handler.
const envEchoFunction = `package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
)

var names = []string{"SHARED", "LEVEL", "TABLE", "FROM_CONFIG", "FROM_FILE", "FROM_FLAG", "LANG"}

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		resp, err := http.Get(api + "next")
		if err != nil {
			os.Exit(1)
		}
		event, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		env := map[string]string{}
		for _, n := range names {
			if v, ok := os.LookupEnv(n); ok {
				env[n] = v
			}
		}
		out, _ := json.Marshal(map[string]any{"event": json.RawMessage(event), "env": env})
		r, err := http.Post(api+resp.Header.Get("Lambda-Runtime-Aws-Request-Id")+"/response", "application/json", bytes.NewReader(out))
		if err != nil {
			os.Exit(1)
		}
		r.Body.Close()
	}
}
`

const devTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Environment:
      Variables:
        SHARED: globals
        LEVEL: globals
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          LEVEL: template
          TABLE: !Ref Table
`

// devProject writes a Go project around envEchoFunction for this
// machine's architecture (one build per verify), with files added.
func devProject(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not installed")
	}
	all := map[string]string{
		"main.go":    envEchoFunction,
		"fnopt.yaml": "name: hello\nlanguage: go\narch: " + string(settings.HostArch()) + "\npackage: zip\n",
	}
	for k, v := range files {
		all[k] = v
	}
	return testenv.GoProject(t, all)
}

// TestProjectEventAndEnv: verify sends a project's testdata/event.json
// unless --event names another, and gives the function template.yaml's
// Environment, fnopt.yaml's env, --env-file and --env, each later one
// winning; a variable the template sets with an intrinsic is left out
// with a warning.
func TestProjectEventAndEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go function for each case")
	}
	dir := devProject(t, map[string]string{
		"testdata/event.json": `{"from":"project"}`,
		"template.yaml":       devTemplate,
		"fnopt.yaml":          "name: hello\nlanguage: go\narch: " + string(settings.HostArch()) + "\npackage: zip\nenv:\n  FROM_CONFIG: config\n  SHARED: config\n",
		"dev.env":             "# comment\nFROM_FILE=file\nLEVEL=file\n",
		"other.json":          `{"from":"flag"}`,
	})
	envFile := filepath.Join(dir, "dev.env")
	tests := []struct {
		name      string
		args      []string
		wantEvent string
		wantEnv   map[string]string
		wantFile  string // settings.event_file
	}{
		{
			name:      "the project's event and environment",
			wantEvent: `{"from":"project"}`,
			wantEnv:   map[string]string{"SHARED": "config", "LEVEL": "template", "FROM_CONFIG": "config", "LANG": "en_US.UTF-8"},
			wantFile:  filepath.Join(dir, "testdata", "event.json"),
		},
		{
			name:      "--event, --env-file and --env win",
			args:      []string{"--event", filepath.Join(dir, "other.json"), "--env-file", envFile, "--env", "LEVEL=flag", "--env", "FROM_FLAG=flag", "--env", "LANG=C.UTF-8"},
			wantEvent: `{"from":"flag"}`,
			wantEnv:   map[string]string{"SHARED": "config", "LEVEL": "flag", "FROM_CONFIG": "config", "FROM_FILE": "file", "FROM_FLAG": "flag", "LANG": "C.UTF-8"},
			wantFile:  filepath.Join(dir, "other.json"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, _ := json.Marshal(tt.wantEnv)
			expect := `{"event":` + tt.wantEvent + `,"env":` + string(env) + `}`
			out, errOut, code := execute(t, append([]string{dir, "--samples", "1", "--json", "--expect", expect}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d, want 0 (the handler answered as expected):\n%s%s", code, out, errOut)
			}
			var doc Report
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Settings.EventFile != tt.wantFile {
				t.Errorf("event_file %q, want %q", doc.Settings.EventFile, tt.wantFile)
			}
			if want := "fnopt: template.yaml: TABLE is !Ref, which only a deployment resolves: not set (give it with --env TABLE=VALUE)"; !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks the warning %q:\n%s", want, errOut)
			}
		})
	}

	// Refused, each with one line naming the variable and where it is.
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"--env", "AWS_LAMBDA_RUNTIME_API=x"}, "fnopt: --env AWS_LAMBDA_RUNTIME_API=x: AWS_LAMBDA_RUNTIME_API is reserved"},
		{[]string{"--env", "_HANDLER=x"}, "fnopt: --env _HANDLER=x: _HANDLER is reserved"},
		{[]string{"--env-file", filepath.Join(dir, "missing.env")}, "fnopt: --env-file: open "},
	}
	for _, tt := range bad {
		_, errOut, code := execute(t, append([]string{dir, "--samples", "1"}, tt.args...)...)
		if code != 2 || !strings.HasPrefix(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line starting %q", tt.args, code, errOut, tt.want)
		}
	}
}

// TestDefaultEventOfOtherTargets: a bootstrap is still sent
// {"hello":"world"}, with no event file reported.
func TestDefaultEventOfOtherTargets(t *testing.T) {
	out, errOut, code := execute(t, bootstrap(t, "echo"), "--samples", "1", "--json", "--expect", `{"hello":"world"}`)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	var doc Report
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Settings.EventFile != "" || len(doc.Settings.Env) != 0 {
		t.Errorf("settings %+v (%v), want no event file and no env", doc.Settings, err)
	}
}
