package verifycmd

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/templates"
)

// envEchoFunction is a Go Lambda function with no dependencies that
// answers each event with {"event": the event, "env": the variables of
// envNames that are set}, so a test sees what reached the handler.
var envEchoFunction = testenv.Function([]string{"encoding/json"}, `var names = []string{"SHARED", "LEVEL", "TABLE", "FROM_CONFIG", "FROM_FILE", "FROM_FLAG", "LANG"}

func answer(event []byte) []byte {
	env := map[string]string{}
	for _, n := range names {
		if v, ok := os.LookupEnv(n); ok {
			env[n] = v
		}
	}
	out, _ := json.Marshal(map[string]any{"event": json.RawMessage(event), "env": env})
	return out
}`)

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

// newHTTPProject renders a `fnopt new` Go project (minimal client: it builds
// offline) for this machine's architecture.
func newHTTPProject(t *testing.T, event string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not installed")
	}
	dir := filepath.Join(t.TempDir(), "fn")
	fs, err := templates.Render(templates.Options{Name: "fn", Lang: config.Go, Event: event, Arch: settings.HostArch(), Package: config.Zip, Client: config.Minimal, Module: "example.com/fn"})
	if err != nil {
		t.Fatal(err)
	}
	if err := templates.Write(t.Context(), dir, fs); err != nil {
		t.Fatal(err)
	}
	return dir
}

var httpLine = regexp.MustCompile(`plain HTTP on (http://127\.0\.0\.1:\d+)/`)

// serveHTTP runs `fnopt verify --serve --http --http-listen 127.0.0.1:0 args...` and
// returns the plain HTTP base URL once the function is ready.
func serveHTTP(t *testing.T, args ...string) (string, *syncBuffer, func() int) {
	t.Helper()
	_, errOut, stop := serve(t, append([]string{"--http", "--http-listen", "127.0.0.1:0"}, args...)...)
	m := httpLine.FindStringSubmatch(errOut.String())
	if m == nil {
		stop()
		t.Fatalf("no plain HTTP address printed:\n%s", errOut)
	}
	// Stopping twice (a deferred stop and a checked one) returns the
	// first exit status.
	return m[1], errOut, sync.OnceValue(stop)
}

type httpAnswer struct {
	code        int
	contentType string
	body        string
}

func request(t *testing.T, method, url, body string) httpAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain")
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpAnswer{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

// TestServeHTTP: a plain HTTP request through --serve --http reaches the
// handler of an http (API Gateway HTTP API) and of a url (function URL)
// project as its event, and its answer comes back as HTTP.
func TestServeHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go function for each case")
	}
	tests := []struct {
		event, method, path, body string
		want                      httpAnswer
	}{
		{"http", "GET", "/orders/7?x=1", "", httpAnswer{200, "application/json", `{"message":"Hello from GET /orders/7"}`}},
		{"url", "POST", "/upload", "12345", httpAnswer{200, "application/json", `{"message":"Hello from POST /upload","received":5}`}},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			base, errOut, stop := serveHTTP(t, newHTTPProject(t, tt.event))
			got := request(t, tt.method, base+tt.path, tt.body)
			if code := stop(); code != 0 {
				t.Errorf("exit %d: %s", code, errOut)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v\n%s", got, tt.want, errOut)
			}
		})
	}
}

// TestServeHTTPRefused: --http needs --serve and a project whose event is
// http or url; --watch needs --serve and a project.
func TestServeHTTPRefused(t *testing.T) {
	raw := testenv.GoProject(t, map[string]string{"fnopt.yaml": "name: hello\nlanguage: go\nevent: sqs\n"})
	boot := bootstrap(t, "echo")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{raw, "--http"}, "fnopt: --http works with --serve"},
		{[]string{raw, "--watch"}, "fnopt: --watch works with --serve"},
		{[]string{raw, "--serve", "--http"}, `fnopt: --http: the function's event is "sqs", not HTTP`},
		{[]string{boot, "--serve", "--http"}, "fnopt: --http translates requests into the project's event: " + boot + " is not a project folder"},
		{[]string{boot, "--serve", "--watch"}, "fnopt: --watch rebuilds a project when its sources change: " + boot + " is not a project folder"},
		{[]string{raw, "--serve", "--watch", "--external"}, "fnopt: --watch rebuilds and restarts the function fnopt starts"},
		{[]string{newProjectFiles(t), "--serve", "--http", "--http-listen", "0.0.0.0:0"}, "fnopt: --http-listen 0.0.0.0:0: listen on loopback"},
		{[]string{raw, "--http-listen", "127.0.0.1:0"}, "fnopt: --http-listen works with --http"},
	}
	for _, tt := range tests {
		_, errOut, code := execute(t, tt.args...)
		if code != 2 || !strings.HasPrefix(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line starting %q", tt.args, code, errOut, tt.want)
		}
	}
}

// newProjectFiles is a project that says it is an http function, for
// checks made before anything is built.
func newProjectFiles(t *testing.T) string {
	return testenv.GoProject(t, map[string]string{"fnopt.yaml": "name: hello\nlanguage: go\nevent: http\n"})
}

// TestServeWatch: under --watch an edit of the handler is served once the
// project is rebuilt, and an edit that does not compile keeps the
// previous build serving, with the compiler's output shown.
func TestServeWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go function three times")
	}
	dir := newHTTPProject(t, "http")
	base, errOut, stop := serveHTTP(t, dir, "--watch")
	defer stop()
	if got := request(t, "GET", base+"/a", ""); got.body != `{"message":"Hello from GET /a"}` {
		t.Fatalf("before the edit: %+v", got)
	}
	handler := filepath.Join(dir, "handler.go")
	src, err := os.ReadFile(handler)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(s string) {
		t.Helper()
		if err := os.WriteFile(handler, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// waitFor polls until cond holds, for at most the time a build takes
	// on a loaded machine.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 3 minutes:\n%s", what, errOut)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	edit(strings.Replace(string(src), `"Hello from "`, `"Howdy from "`, 1))
	waitFor("the edited handler answers", func() bool {
		return request(t, "GET", base+"/a", "").body == `{"message":"Howdy from GET /a"}`
	})

	edit(string(src) + "\nfunc broken() { undefinedName() }\n")
	waitFor("the failed build is reported", func() bool {
		return strings.Contains(errOut.String(), "still serving the previous build")
	})
	if !strings.Contains(errOut.String(), "undefined: undefinedName") {
		t.Errorf("the compiler's output is not shown:\n%s", errOut)
	}
	if got := request(t, "GET", base+"/b", ""); got.body != `{"message":"Howdy from GET /b"}` {
		t.Errorf("after a failed build: %+v, want the previous build's answer", got)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if left := children(t); len(left) != 0 {
		t.Errorf("processes left: %q\n%s", left, errOut)
	}
}

// children lists the command lines of this test process's children
// (other tests on the machine may run functions of their own).
func children(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range testenv.Processes(t) {
		if p.PPID == os.Getpid() {
			out = append(out, p.Cmdline)
		}
	}
	return out
}
