package templates_test

import (
	"bytes"
	"fmt"
	"go/format"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/fnopt/fnopt/internal/awsref"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/templates"
)

func TestRenderEveryCombination(t *testing.T) {
	// Language-specific files (Rust's are checked by rust_test.go) come
	// on top of these.
	common := []string{".gitignore", ".github/workflows/ci.yml", "Makefile", "NOTICE", "README.md", "fnopt.yaml", "template.yaml", "zip.go"}
	goFiles := []string{"go.mod", "main.go", "handler.go", "handler_test.go", "testdata/event.json"}
	for _, o := range combinations() {
		name := fmt.Sprintf("%s/%s/%s/%s/%s", o.Lang, o.Event, o.Client, o.Arch, o.Package)
		t.Run(name, func(t *testing.T) {
			fs := files(t, o)
			want := common
			if o.Lang == "go" {
				want = append(append([]string(nil), common...), goFiles...)
				if o.Client == "minimal" {
					want = append(want, "internal/lambda/lambda.go", "internal/lambda/client.go", "internal/lambda/conn.go")
					if o.Event != "raw" {
						want = append(want, "internal/events/"+map[string]string{
							"http": "apigateway.go", "url": "functionurl.go", "sqs": "sqs.go", "s3": "s3.go", "eventbridge": "eventbridge.go",
						}[o.Event])
					}
				} else {
					want = append(want, "go.sum")
				}
			}
			for _, p := range want {
				if _, ok := fs[p]; !ok {
					t.Errorf("%s missing", p)
				}
			}
			for p, f := range fs {
				if bytes.Contains(f.Data, []byte("<no value>")) {
					t.Errorf("%s: a template value is missing", p)
				}
				if strings.HasSuffix(p, ".go") {
					if src, err := format.Source(f.Data); err != nil {
						t.Errorf("%s does not parse: %v", p, err)
					} else if !bytes.Equal(src, f.Data) {
						t.Errorf("%s is not gofmt-formatted", p)
					}
				}
			}
			cfg, err := config.Parse(fs["fnopt.yaml"].Data)
			if err != nil {
				t.Fatalf("fnopt.yaml: %v", err)
			}
			got := config.Config{Name: cfg.Name, Language: cfg.Language, Event: cfg.Event, Arch: cfg.Arch, Package: cfg.Package, Client: cfg.Client}
			if want := (config.Config{Name: o.Name, Language: o.Lang, Event: o.Event, Arch: o.Arch, Package: o.Package, Client: o.Client}); !reflect.DeepEqual(got, want) {
				t.Errorf("fnopt.yaml says %+v, want %+v", got, want)
			}
			// An image's size has no budget: nothing would check it
			// (verify measures the zip build).
			if (cfg.Budgets.ArtifactBytes > 0) != (o.Package == config.Zip) || cfg.Budgets.InitP50Ms <= 0 || cfg.Budgets.InitP90Ms < cfg.Budgets.InitP50Ms {
				t.Errorf("fnopt.yaml budgets %+v for a %s project", cfg.Budgets, o.Package)
			}
			checkMakefile(t, o, string(fs["Makefile"].Data), string(fs["template.yaml"].Data))
			checkWorkflow(t, fs[".github/workflows/ci.yml"].Data)
		})
	}
}

// checkMakefile: the SAM build target matches template.yaml's resource
// and a Go build uses exactly fnopt's settings for the arch.
func checkMakefile(t *testing.T, o templates.Options, mk, tmpl string) {
	t.Helper()
	target := regexp.MustCompile(`(?m)^build-([A-Za-z0-9]+):`).FindStringSubmatch(mk)
	if target == nil {
		t.Fatal("Makefile has no build-<LogicalID> target for sam build")
	}
	if !regexp.MustCompile(`(?m)^  ` + target[1] + `:\n    Type: AWS::Serverless::Function`).MatchString(tmpl) {
		t.Errorf("template.yaml has no function resource %s (the Makefile's build-%s)", target[1], target[1])
	}
	for _, tgt := range []string{"build", "zip", "test"} {
		if !regexp.MustCompile(`(?m)^` + tgt + `:`).MatchString(mk) {
			t.Errorf("Makefile has no %s target", tgt)
		}
	}
	if o.Lang == "go" {
		arch := o.Arch
		if want := settings.Go(arch).CommandWith("$(GO)", "$(DIST)/bootstrap", "."); !strings.Contains(mk, "\t"+want+"\n") {
			t.Errorf("Makefile does not build with %q", want)
		}
	}
}

func TestGoModulePath(t *testing.T) {
	o := templates.Options{Name: "api", Lang: "go", Event: "http", Arch: "arm64", Package: "zip", Client: "minimal", Module: "github.com/me/api"}
	fs := files(t, o)
	if !bytes.HasPrefix(fs["go.mod"].Data, []byte("module github.com/me/api\n")) {
		t.Errorf("go.mod = %s", fs["go.mod"].Data)
	}
	for _, p := range []string{"main.go", "handler.go"} {
		if !bytes.Contains(fs[p].Data, []byte(`"github.com/me/api/internal/`)) {
			t.Errorf("%s does not import the module's internal packages:\n%s", p, fs[p].Data)
		}
	}
	o.Module = ""
	if fs := files(t, o); !bytes.HasPrefix(fs["go.mod"].Data, []byte("module api\n")) {
		t.Errorf("default module: go.mod = %s", fs["go.mod"].Data)
	}
}

// The first elements of standard-library package paths that a Go module
// path must not start with are those of the Go installed here.
func TestStdTopLevelIsCurrent(t *testing.T) {
	out, err := exec.Command("go", "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(p, "/")
		o := templates.Options{Name: "hello", Lang: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official", Module: first}
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "standard library") {
			t.Errorf("module %q (from %s) is accepted; add %q to stdTopLevel", first, p, first)
		}
	}
}

func TestValidate(t *testing.T) {
	good := templates.Options{Name: "hello", Lang: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"}
	for _, tc := range []struct {
		name string
		edit func(*templates.Options)
		want string // part of the error; empty for valid
	}{
		{"good", func(*templates.Options) {}, ""},
		{"dashes and digits", func(o *templates.Options) { o.Name = "my-func_2" }, ""},
		{"empty name", func(o *templates.Options) { o.Name = "" }, "name is empty"},
		{"separator", func(o *templates.Options) { o.Name = "a/b" }, "path separators"},
		{"dot dot", func(o *templates.Options) { o.Name = ".." }, `cannot be "." or ".." or contain path separators`},
		{"upper case", func(o *templates.Options) { o.Name = "Hello" }, "lower-case letter"},
		{"leading digit", func(o *templates.Options) { o.Name = "1fn" }, "lower-case letter"},
		{"space", func(o *templates.Options) { o.Name = "my fn" }, "lower-case letter"},
		{"rust keyword", func(o *templates.Options) { o.Lang = "rust"; o.Name = "fn" }, "Rust keyword"},
		{"rust std crate", func(o *templates.Options) { o.Lang = "rust"; o.Name = "std" }, "standard library crate"},
		{"cargo folder", func(o *templates.Options) { o.Lang = "rust"; o.Name = "build" }, "Cargo reserves"},
		{"go may be fn", func(o *templates.Options) { o.Name = "fn" }, ""},
		{"go may be type", func(o *templates.Options) { o.Name = "type" }, ""},
		{"go may be build", func(o *templates.Options) { o.Name = "build" }, ""},
		{"rust may be main", func(o *templates.Options) { o.Lang = "rust"; o.Name = "main" }, ""},
		{"go std package", func(o *templates.Options) { o.Name = "fmt" }, `invalid name "fmt": as the Go module path, it is a standard library package`},
		{"go", func(o *templates.Options) { o.Name = "go" }, "standard library package"},
		{"vendor", func(o *templates.Options) { o.Name = "vendor" }, "standard library package"},
		{"main", func(o *templates.Options) { o.Name = "main" }, "the go command reserves it"},
		{"tool", func(o *templates.Options) { o.Name = "tool" }, "the go command reserves it"},
		{"toolchain", func(o *templates.Options) { o.Name = "toolchain" }, "the go command reserves it"},
		{"go name with a module", func(o *templates.Options) { o.Name = "main"; o.Module = "github.com/me/main" }, ""},
		{"module go", func(o *templates.Options) { o.Module = "go" }, `invalid module path "go"`},
		{"module std", func(o *templates.Options) { o.Module = "std" }, "the go command reserves it"},
		{"module std path", func(o *templates.Options) { o.Module = "net/http" }, "standard library package"},
		{"windows name", func(o *templates.Options) { o.Name = "con" }, "reserved file name on Windows"},
		{"too long", func(o *templates.Options) { o.Name = strings.Repeat("a", 65) }, "at most 64"},
		{"lang", func(o *templates.Options) { o.Lang = "java" }, `lang: unknown language "java": use one of go, rust`},
		{"event", func(o *templates.Options) { o.Event = "sns" }, `event: unknown event source "sns"`},
		{"arch", func(o *templates.Options) { o.Arch = "i386" }, `arch: unknown architecture "i386": use one of arm64, x86_64`},
		{"arch alias", func(o *templates.Options) { o.Arch = "amd64" }, ""},
		{"package", func(o *templates.Options) { o.Package = "tar" }, `package: unknown packaging "tar"`},
		{"client", func(o *templates.Options) { o.Client = "tiny" }, `client: unknown runtime client "tiny"`},
		{"module", func(o *templates.Options) { o.Module = "github.com/me/my api" }, `invalid module path "github.com/me/my api"`},
		{"module slash", func(o *templates.Options) { o.Module = "github.com//x" }, "empty path element"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.edit(&o)
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("error is not one line: %q", err)
			}
			if _, rerr := templates.Render(o); (rerr == nil) != (err == nil) {
				t.Errorf("Render error %v disagrees with Validate's %v", rerr, err)
			}
		})
	}
}

// The official client's go.sum pins the same aws-lambda-go as fnopt's own
// go.mod, whose checksums the Go proxy and sum database vouch for.
func TestGoSumMatchesFnopt(t *testing.T) {
	fs := files(t, templates.Options{Name: "x", Lang: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "official"})
	own, err := readRepoFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(fs["go.sum"].Data)), "\n") {
		if !strings.Contains(string(own), line+"\n") {
			t.Errorf("go.sum line %q is not in fnopt's go.sum", line)
		}
	}
}

// The Go projects' testdata/event.json are the AWS sample events of
// internal/awsref, unchanged.
func TestSampleEventsAreTheReference(t *testing.T) {
	for event, name := range map[string]string{
		"raw":         "eventbridge-ecr-image-push-event.json",
		"http":        "apigw-v2-request-no-authorizer.json",
		"url":         "lambda-urls-request.json",
		"sqs":         "sqs-event.json",
		"s3":          "s3-event.json",
		"eventbridge": "eventbridge-ecr-image-push-event.json",
	} {
		want, err := awsref.Event(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, client := range templates.Choices["client"] {
			fs := files(t, templates.Options{Name: "x", Lang: "go", Event: event, Arch: "arm64", Package: "zip", Client: config.Client(client)})
			if !bytes.Equal(fs["testdata/event.json"].Data, want) {
				t.Errorf("%s/%s: testdata/event.json differs from %s", client, event, name)
			}
		}
	}
}

// checkWorkflow: the CI workflow is YAML whose job tests and builds.
func checkWorkflow(t *testing.T, data []byte) {
	t.Helper()
	var wf struct {
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				Uses string `yaml:"uses"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("ci.yml: %v", err)
	}
	job, ok := wf.Jobs["build"]
	if !ok || job.RunsOn == "" || wf.On == nil {
		t.Fatalf("ci.yml has no build job or trigger: %s", data)
	}
	var runs []string
	for _, s := range job.Steps {
		runs = append(runs, s.Run)
	}
	all := strings.Join(runs, "\n")
	if !strings.Contains(all, "make test") || !strings.Contains(all, "make zip") {
		t.Errorf("ci.yml does not test and build: %q", runs)
	}
}
