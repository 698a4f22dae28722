package project

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/testenv"
)

// write creates files (name → content) in a new temporary folder.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, files)
	return dir
}

const goMod = "module example.com/fn\n\ngo 1.22\n\nrequire github.com/aws/aws-lambda-go v1.55.1\n"

// applyTo analyses files, applies the plan and returns one file's result.
func applyTo(t *testing.T, files map[string]string, file string) (string, *Plan) {
	t.Helper()
	dir := write(t, files)
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(plan, OSWriter{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b), plan
}

func TestGoBuildEdits(t *testing.T) {
	tests := []struct {
		name, makefile, want string
	}{
		{"plain", "build:\n\tgo build -o bootstrap .\n",
			"build:\n\tGOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap .\n"},
		{"ldflags merged inside quotes", "build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-X main.v=1\" -o bootstrap .\n",
			"build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-X main.v=1 -s -w -buildid=\" -o bootstrap .\n"},
		{"ldflags= unquoted gets quoted", "build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags=-s -o bootstrap .\n",
			"build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags=\"-s -w -buildid=\" -o bootstrap .\n"},
		{"tags appended with a comma", "build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags netgo -ldflags \"-s -w -buildid=\" -o bootstrap .\n",
			"build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags netgo,lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap .\n"},
		{"flags through a variable are seen", "LDFLAGS := -s -w -buildid=\nbuild:\n\t@GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"$(LDFLAGS)\" -o bootstrap .\n",
			"LDFLAGS := -s -w -buildid=\nbuild:\n\t@GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"$(LDFLAGS)\" -o bootstrap .\n"},
		{"GOARCH through a variable", "ARCH ?= amd64\nbuild:\n\tGOARCH=$(ARCH) CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap .\n",
			"ARCH ?= arm64\nbuild:\n\tGOARCH=$(ARCH) CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap .\n"},
		{"exported env and continuation lines", "export CGO_ENABLED=0\nexport GOARCH=amd64\nbuild:\n\tgo build \\\n\t  -o bootstrap .\n",
			"export CGO_ENABLED=0\nexport GOARCH=arm64\nbuild:\n\tgo build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" \\\n\t  -o bootstrap .\n"},
		{"debugger gcflags removed", "build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -gcflags=\"all=-N -l\" -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap .\n",
			"build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap .\n"},
		{"debugger gcflags first, other flags missing", "build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -gcflags all=-N -o bootstrap .\n",
			"build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap .\n"},
		{"comments and other commands untouched", "# go build in a comment is not a command\nbuild: # go build here neither\n\techo go build; go build -o bootstrap . && ls\n",
			"# go build in a comment is not a command\nbuild: # go build here neither\n\techo go build; GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bootstrap . && ls\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := applyTo(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n", "Makefile": tt.makefile}, "Makefile")
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestScriptsAndDockerfiles(t *testing.T) {
	tests := []struct {
		file, src, want string
	}{
		{"build.sh", "#!/bin/sh\nset -e\nGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -o bootstrap .\n",
			"#!/bin/sh\nset -e\nGOARCH=arm64 CGO_ENABLED=0 go build -ldflags \"-s -w -buildid=\" -trimpath -tags lambda.norpc -o bootstrap .\n"},
		{"Dockerfile", "FROM golang:1.22 AS build\nENV CGO_ENABLED=0 GOARCH=arm64\nRUN go build -trimpath -tags lambda.norpc -o /bootstrap .\n",
			"FROM golang:1.22 AS build\nENV CGO_ENABLED=0 GOARCH=arm64\nRUN go build -ldflags \"-s -w -buildid=\" -trimpath -tags lambda.norpc -o /bootstrap .\n"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, _ := applyTo(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n", tt.file: tt.src}, tt.file)
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestSAMWithoutBuildMethodOrArchitecture(t *testing.T) {
	tmpl := `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: go1.x   # shared by every function
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: "fn"
`
	want := `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023   # shared by every function
    Architectures:
      - arm64
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: go1.x
    Properties:
      CodeUri: fn/
      Handler: "bootstrap"
`
	checkSAM(t, []byte(tmpl))
	got, plan := applyTo(t, map[string]string{"fn/go.mod": goMod, "fn/main.go": "package main\nfunc main() {}\n", "template.yaml": tmpl}, "template.yaml")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	checkSAM(t, []byte(got))
	// SAM's own Go builder takes no flags: said, not edited.
	if m := ids(plan.Findings, notApplicable); strings.Join(m, " ") != "go-build-flags" {
		t.Errorf("findings not applied: %v, want go-build-flags", m)
	}
}

func TestRenamesFollowTheBinary(t *testing.T) {
	tmpl := "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildMethod: makefile\n" +
		"    Properties:\n      Handler: main\n      Runtime: go1.x\n      Architectures: [arm64]\n"
	mk := "build-Fn:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bin/main .\n" +
		"\tcp bin/main $(ARTIFACTS_DIR)/main\n\tchmod +x bin/main\n\tcd bin && zip -q ../fn.zip main\n\techo main is built\n"
	want := "build-Fn:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bin/bootstrap .\n" +
		"\tcp bin/bootstrap $(ARTIFACTS_DIR)/bootstrap\n\tchmod +x bin/bootstrap\n\tcd bin && zip -q ../fn.zip bootstrap\n\techo main is built\n"
	got, _ := applyTo(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n", "template.yaml": tmpl, "Makefile": mk}, "Makefile")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestServerlessWithoutArtifactIsByHand(t *testing.T) {
	sls := "service: s\nprovider:\n  name: aws\n  runtime: go1.x\nfunctions:\n  hello:\n    handler: bin/hello\n"
	dir := write(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n", "serverless.yml": sls, "serverless.ts": "export {}\n",
		"Makefile": "build:\n\tGOARCH=amd64 go build -o bin/hello .\n"})
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range plan.Findings {
		if f.ID == "go1x-runtime" && (f.Applicable() || !strings.Contains(f.Manual, "package hello as its own zip")) {
			t.Errorf("go1x-runtime should be by hand: %+v", f)
		}
		// While the function stays on go1.x, what only a custom runtime
		// supports must wait.
		if f.ID == "arch-arm64" && !strings.Contains(f.Blocked, "go1.x runtime only runs on x86_64") {
			t.Errorf("arch-arm64 should be blocked by go1.x: %+v", f)
		}
	}
	if got := ids(plan.Findings, applicable); strings.Contains(strings.Join(got, " "), "go-tags-norpc") {
		t.Errorf("lambda.norpc applied while the function stays on go1.x: %v", got)
	}
	if len(plan.Skipped) != 1 || plan.Skipped[0].File != "serverless.ts" {
		t.Errorf("not understood: %+v, want serverless.ts", plan.Skipped)
	}
}

func TestGo1xBaseImage(t *testing.T) {
	dir := write(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n",
		"Dockerfile": "FROM golang:1.20 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 GOARCH=arm64 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o /main .\n\nFROM public.ecr.aws/lambda/go:1\nCOPY --from=build /main ${LAMBDA_TASK_ROOT}\nCMD [\"main\"]\n"})
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Findings) != 1 || plan.Findings[0].ID != "go1x-image" || plan.Findings[0].Status != "by-hand" || plan.Findings[0].Evidence[0].Line != 6 {
		t.Errorf("findings %+v, want go1x-image at Dockerfile:6, by hand", plan.Findings)
	}
}

func TestCargoLambda(t *testing.T) {
	cargo := "[package]\nname = \"f\"\nversion = \"0.1.0\"\n\n[profile.release]\nopt-level = \"s\"\nlto = true\ncodegen-units = 1\npanic = \"abort\"\nstrip = true\n"
	mk := "build:\n\tcargo lambda build --output-format zip\n"
	tmpl := "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildMethod: makefile\n" +
		"    Properties:\n      Runtime: provided.al2023\n      Handler: bootstrap\n      Architectures: [x86_64]\n"
	got, plan := applyTo(t, map[string]string{"Cargo.toml": cargo, "src/main.rs": "fn main() {}\n", "Makefile": mk, "template.yaml": tmpl}, "Makefile")
	if want := "build:\n\tcargo lambda build --release --arm64 --output-format zip\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if ids := ids(plan.Findings, applicable); strings.Join(ids, " ") != "debug-build arch-arm64" {
		t.Errorf("findings %v, want debug-build arch-arm64", ids)
	}
}

func TestWhatFnoptCannotReadIsSaid(t *testing.T) {
	tmpl := "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildMethod: makefile\n" +
		"    Properties:\n      Handler: main\n      Runtime: go1.x\n      Architectures: [arm64]\n"
	tests := []struct {
		name, makefile string
		skipped        bool
		manual         string
	}{
		{"binary named through a variable", "BINARY := main\nbuild-Fn:\n\tGOARCH=arm64 go build -o $(ARTIFACTS_DIR)/$(BINARY) .\n", false, "is named through a variable"},
		{"build through variables", "GOCMD=go\nGOBUILD=$(GOCMD) build\nbuild-Fn:\n\t$(GOBUILD) -o $(ARTIFACTS_DIR)/main .\n", true, "write $(ARTIFACTS_DIR)/bootstrap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n", "template.yaml": tmpl, "Makefile": tt.makefile})
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(plan.Skipped) == 1 && plan.Skipped[0].File == "Makefile"; got != tt.skipped {
				t.Errorf("Makefile reported as not understood: %v, want %v (%+v)", got, tt.skipped, plan.Skipped)
			}
			for _, f := range plan.Findings {
				if f.ID == "go1x-runtime" && (f.Applicable() || !strings.Contains(f.Manual, tt.manual)) {
					t.Errorf("go1x-runtime: %+v, want by hand with %q", f, tt.manual)
				}
			}
		})
	}
}

func TestCRLFFilesKeepCRLF(t *testing.T) {
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	sls := crlf("service: s\nprovider:\n  name: aws\n  runtime: provided.al2\nfunctions:\n  hello:\n    handler: bootstrap\n")
	want := crlf("service: s\nprovider:\n  name: aws\n  runtime: provided.al2023\n  architecture: arm64\nfunctions:\n  hello:\n    handler: bootstrap\n")
	got, _ := applyTo(t, map[string]string{"Cargo.toml": crlf("[package]\nname = \"f\"\nversion = \"0.1.0\"\n"), "serverless.yml": sls}, "serverless.yml")
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestShippedDebugBinary(t *testing.T) {
	dir := write(t, map[string]string{"go.mod": "module example.com/fn\n\ngo 1.22\n", "main.go": "package main\n\nfunc main() {}\n",
		"Makefile": "build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w -buildid=\" -o bin/bootstrap .\n"})
	// A plain build, as an old deploy left it in bin/.
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "bootstrap"), ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Findings) != 1 || plan.Findings[0].ID != "shipped-debug" || !strings.Contains(plan.Findings[0].Evidence[0].Text, "DWARF") ||
		!strings.Contains(plan.Findings[0].Manual, "stale") {
		t.Errorf("findings %+v, want shipped-debug (DWARF, stale binary)", plan.Findings)
	}
}

func TestPlainCloudFormationGetsNoSAMMetadata(t *testing.T) {
	tmpl := "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Handler: main\n      Runtime: go1.x\n      Architectures: [arm64]\n      Code:\n        S3Bucket: b\n        S3Key: k.zip\n"
	want := "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Handler: bootstrap\n      Runtime: provided.al2023\n      Architectures: [arm64]\n      Code:\n        S3Bucket: b\n        S3Key: k.zip\n"
	got, _ := applyTo(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n", "template.yaml": tmpl}, "template.yaml")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A build file that is a symbolic link can be neither read as part of the
// plan nor written, so the whole plan is refused: applying it to the other
// files would leave a Makefile built for arm64 beside a template that still
// deploys x86_64 on go1.x (issue 12, item 1).
func TestSymlinkedBuildFileRefusesThePlan(t *testing.T) {
	tests := []struct {
		name    string
		target  string // what template.yaml links to, from the project folder
		outside bool   // the target is outside the project
	}{
		{"outside the project", "../outside/t.yaml", true},
		{"inside the project", "deploy/t.yaml", false},
		{"to nothing", "../nowhere/t.yaml", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fixture(t, "legacy-go-sam")
			link := filepath.Join(dir, "template.yaml")
			target := filepath.Join(dir, tt.target)
			if tt.name != "to nothing" {
				if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(link, target); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Remove(link); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(tt.target, link); err != nil {
				t.Fatal(err)
			}
			parent := filepath.Dir(dir) // holds the project and outside/
			before := checksum(t, parent)

			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			var linkErr *LinkError
			if !errors.As(plan.Refusal(), &linkErr) || linkErr.File != "template.yaml" || linkErr.Outside != tt.outside {
				t.Fatalf("Refusal() = %v, want a LinkError for template.yaml (outside %v)", plan.Refusal(), tt.outside)
			}
			if len(plan.Applicable()) == 0 {
				t.Fatal("the plan has no applicable finding: the test proves nothing")
			}
			files, err := Apply(plan, OSWriter{})
			if !errors.As(err, &linkErr) || len(files) != 0 {
				t.Fatalf("Apply = %v, %v; want nothing changed and a LinkError", files, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "template.yaml is a symbolic link to "+tt.target) ||
				!strings.Contains(msg, "replace the link with a copy") || strings.Contains(msg, "--") {
				t.Errorf("error %q: want one line naming the link and what to do, and no flag", msg)
			}
			if checksum(t, parent) != before {
				t.Error("a refused plan changed files")
			}
			if len(plan.Skipped) != 1 || plan.Skipped[0].File != "template.yaml" || !strings.Contains(plan.Skipped[0].Reason, "symbolic link") {
				t.Errorf("not understood: %+v, want the link", plan.Skipped)
			}
		})
	}
}

// Links the plan does not need are no reason to refuse it: a linked
// script that builds nothing, a file fnopt never reads, a link to nowhere
// named like a script.
func TestLinksThePlanDoesNotNeed(t *testing.T) {
	dir := fixture(t, "legacy-go-sam")
	outside := filepath.Join(filepath.Dir(dir), "outside")
	files := map[string]string{"deploy.sh": "#!/bin/sh\naws s3 cp function.zip s3://bucket/\n", "template.json": "{}\n"}
	for name, content := range files {
		if err := os.MkdirAll(outside, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(outside, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("../outside/"+name, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../nowhere/release.sh", filepath.Join(dir, "release.sh")); err != nil {
		t.Fatal(err)
	}
	before := checksum(t, outside)
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Refusal(); err != nil {
		t.Fatalf("Refusal() = %v, want none", err)
	}
	if _, err := Apply(plan, OSWriter{}); err != nil {
		t.Fatal(err)
	}
	if checksum(t, outside) != before {
		t.Error("a file outside the project was changed")
	}
}

// A linked script that builds the function is a build file like any
// other: the plan refuses it.
func TestLinkedBuildScriptRefusesThePlan(t *testing.T) {
	dir := write(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n",
		"../outside/build.sh": "#!/bin/sh\nGOOS=linux GOARCH=amd64 go build -o bootstrap .\n"})
	if err := os.Symlink("../outside/build.sh", filepath.Join(dir, "build.sh")); err != nil {
		t.Fatal(err)
	}
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	var linkErr *LinkError
	if !errors.As(plan.Refusal(), &linkErr) || linkErr.File != "build.sh" || !linkErr.Outside {
		t.Fatalf("Refusal() = %v, want build.sh linked outside the project", plan.Refusal())
	}
}

func TestCargoProfileEdits(t *testing.T) {
	cargo := "[package]\nname = \"f\"\nversion = \"0.1.0\"\n\n[profile.release]\n# keep speed\nopt-level = 3 # fast\nlto = \"fat\"\n\n[features]\nx = []\n"
	want := "[package]\nname = \"f\"\nversion = \"0.1.0\"\n\n[profile.release]\n# keep speed\nopt-level = \"s\" # fast\nlto = \"fat\"\ncodegen-units = 1\npanic = \"abort\"\nstrip = true\n\n[features]\nx = []\n"
	got, _ := applyTo(t, map[string]string{"Cargo.toml": cargo, "src/main.rs": "fn main() {}\n"}, "Cargo.toml")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestBlockers(t *testing.T) {
	t.Run("cgo", func(t *testing.T) {
		dir := write(t, map[string]string{"go.mod": goMod, "main.go": "package main\n\n// #include <stdio.h>\nimport \"C\"\n\nfunc main() {}\n",
			"Makefile": "build:\n\tGOARCH=amd64 go build -o bootstrap .\n"})
		plan, err := Analyze(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range plan.Findings {
			if (f.ID == "arch-arm64" || f.ID == "go-cgo") && !strings.Contains(f.Blocked, `main.go:4 imports "C"`) {
				t.Errorf("%s should be blocked by main.go:4, got %q", f.ID, f.Blocked)
			}
		}
	})
	t.Run("native crate", func(t *testing.T) {
		dir := write(t, map[string]string{"Cargo.toml": "[package]\nname = \"f\"\nversion = \"0.1.0\"\n[dependencies]\nopenssl-sys = \"0.9\"\n",
			"template.yaml": "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildMethod: rust-cargolambda\n    Properties:\n      Runtime: provided.al2023\n      Handler: bootstrap\n"})
		plan, err := Analyze(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range plan.Findings {
			if f.ID == "arch-arm64" && !strings.Contains(f.Blocked, "openssl-sys") {
				t.Errorf("arm64 should be blocked by openssl-sys, got %+v", f)
			}
		}
	})
}

func TestUPXAndDebugBinaries(t *testing.T) {
	// A real ELF executable (the Go toolchain's own) with the UPX magic in
	// its first page, where UPX writes its header (Debian 12 ships no upx
	// package to pack a real one).
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	real, err := os.ReadFile(goBin)
	if err != nil {
		t.Fatal(err)
	}
	packed := append([]byte(nil), real...)
	copy(packed[0x100:], "UPX!")
	dir := write(t, map[string]string{"go.mod": goMod, "main.go": "package main\nfunc main() {}\n",
		"Makefile": "build:\n\tGOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags \"-s -w -buildid=\" -o bin/bootstrap .\n\tupx --best bin/bootstrap\n"})
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "bootstrap"), packed, 0o755); err != nil {
		t.Fatal(err)
	}
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	var upx *Finding
	for i := range plan.Findings {
		if plan.Findings[i].ID == "upx" {
			upx = &plan.Findings[i]
		}
	}
	if upx == nil || len(upx.Evidence) != 2 || upx.Evidence[0].File != "bin/bootstrap" {
		t.Fatalf("upx finding: %+v", upx)
	}
	if _, err := Apply(plan, OSWriter{}); err != nil {
		t.Fatal(err)
	}
	mk, _ := os.ReadFile(filepath.Join(dir, "Makefile"))
	if strings.Contains(string(mk), "upx") {
		t.Errorf("upx step still in the Makefile:\n%s", mk)
	}
}

func TestNothingWrittenWithoutApply(t *testing.T) {
	dir := fixture(t, "legacy-go-sam")
	before := checksum(t, dir)
	plan, err := Analyze(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Diff(); err != nil {
		t.Fatal(err)
	}
	if _, err := plan.Changes(); err != nil {
		t.Fatal(err)
	}
	if checksum(t, dir) != before {
		t.Fatal("the project changed without Apply")
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"malformed YAML", map[string]string{"go.mod": goMod, "template.yaml": "Resources:\n  Fn:\n    Type: [unclosed\n"}, "template.yaml is not valid YAML"},
		{"malformed TOML", map[string]string{"Cargo.toml": "[package\nname = \"x\"\n"}, "Cargo.toml is not valid TOML"},
		{"not a function", map[string]string{"README.md": "hello\n"}, "not a function folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, tt.files)
			before := checksum(t, dir)
			_, err := Analyze(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tt.want)
			}
			if checksum(t, dir) != before {
				t.Error("files changed")
			}
		})
	}
	t.Run("read-only file", func(t *testing.T) {
		dir := fixture(t, "legacy-go-sam")
		if err := os.Chmod(filepath.Join(dir, "template.yaml"), 0o444); err != nil {
			t.Fatal(err)
		}
		before := checksum(t, dir)
		plan, err := Analyze(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Apply(plan, OSWriter{})
		if err == nil || !strings.Contains(err.Error(), "template.yaml is read-only") {
			t.Errorf("error %v, want template.yaml is read-only", err)
		}
		if checksum(t, dir) != before {
			t.Error("files changed")
		}
	})
	t.Run("changed since the plan", func(t *testing.T) {
		dir := fixture(t, "legacy-go-sam")
		plan, err := Analyze(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte("build:\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		before := checksum(t, dir)
		if _, err := Apply(plan, OSWriter{}); err == nil || !strings.Contains(err.Error(), "changed since it was read") {
			t.Errorf("error %v, want changed since it was read", err)
		}
		if checksum(t, dir) != before {
			t.Error("files changed")
		}
	})
}

// failingWriter is the real writer with one step failing, as a full disk
// or a crash would make it.
type failingWriter struct {
	OSWriter
	failStage, failCommit int // 1-based call that fails; 0 never
	stages, commits       int
}

var errInjected = errors.New("injected failure")

func (w *failingWriter) Stage(path string, data []byte, perm fs.FileMode) (string, error) {
	w.stages++
	if w.stages == w.failStage {
		return "", errInjected
	}
	return w.OSWriter.Stage(path, data, perm)
}

func (w *failingWriter) Commit(tmp, path string) error {
	w.commits++
	if w.commits == w.failCommit {
		return errInjected
	}
	return w.OSWriter.Commit(tmp, path)
}

func TestInterruptedApplyLeavesEverything(t *testing.T) {
	tests := []struct {
		name string
		w    *failingWriter
	}{
		{"second file cannot be staged", &failingWriter{failStage: 2}},
		{"second rename fails after the first", &failingWriter{failCommit: 2}},
		{"first rename fails", &failingWriter{failCommit: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := fixture(t, "legacy-go-sam")
			before := checksum(t, dir)
			plan, err := Analyze(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Apply(plan, tt.w)
			if !errors.Is(err, errInjected) && (err == nil || !strings.Contains(err.Error(), errInjected.Error())) {
				t.Fatalf("error %v, want the injected failure", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if checksum(t, dir) != before {
				t.Error("a failed apply left the project changed (or temporary files behind)")
			}
		})
	}
}

func TestUnifiedDiffAppliesWithPatch(t *testing.T) {
	patch, err := exec.LookPath("patch")
	if err != nil {
		t.Skip("patch not installed")
	}
	tests := []struct{ name, old, new string }{
		{"one line", "a\nb\nc\n", "a\nB\nc\n"},
		{"insert at start and end", "x\ny\n", "0\nx\ny\nz\n"},
		{"far apart hunks", strings.Repeat("l\n", 3) + "a\n" + strings.Repeat("m\n", 10) + "b\n", strings.Repeat("l\n", 3) + "A\n" + strings.Repeat("m\n", 10) + "B\n"},
		{"delete all", "a\nb\n", ""},
		{"no final newline", "a\nb", "a\nc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := UnifiedDiff("a/f", "b/f", []byte(tt.old), []byte(tt.new), 3)
			dir := write(t, map[string]string{"f": tt.old, "f.diff": d})
			cmd := exec.Command(patch, "-p1", "-s", "-i", "f.diff")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("patch: %v\n%s\ndiff:\n%s", err, out, d)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "f"))
			if string(got) != tt.new {
				t.Errorf("patched %q, want %q\ndiff:\n%s", got, tt.new, d)
			}
		})
	}
	if d := UnifiedDiff("a", "b", []byte("same\n"), []byte("same\n"), 3); d != "" {
		t.Errorf("equal inputs gave a diff: %q", d)
	}
}
