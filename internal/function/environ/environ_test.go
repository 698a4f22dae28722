package environ

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key     string
		wantErr string
	}{
		{"TABLE_NAME", ""},
		{"AWS_LAMBDA_EXEC_WRAPPER", ""},
		{"LANG", ""},
		{"PATH", ""},
		{"_HANDLER", "_HANDLER is reserved"},
		{"AWS_REGION", "AWS_REGION is reserved"},
		{"AWS_LAMBDA_RUNTIME_API", "is reserved"},
		{"AWS_LAMBDA_SOMETHING_NEW", "is reserved"},
		{"TZ", "TZ is reserved"},
		{"A", "not a name Lambda accepts"},
		{"1X", "not a name Lambda accepts"},
		{"MY-VAR", "not a name Lambda accepts"},
		{"", "not a name Lambda accepts"},
	}
	for _, tt := range tests {
		err := CheckKey(tt.key)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckKey(%q) = %v, want %q", tt.key, err, tt.wantErr)
		}
	}
}

func write(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func lookup(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestReadFile(t *testing.T) {
	host := lookup(map[string]string{"FROM_HOST": "h"})
	tests := []struct {
		name, data string
		want       []string
		wantErr    string
	}{
		{"pairs, comments, blanks", "# a comment\nA1=x\n\n  B2=y=z\r\nC3=\n", []string{"A1=x", "B2=y=z", "C3="}, ""},
		{"taken as written", "Q1=\"quoted\" # not a comment\n", []string{`Q1="quoted" # not a comment`}, ""},
		{"bare names from the caller", "FROM_HOST\nNOT_SET\n", []string{"FROM_HOST=h"}, ""},
		{"reserved", "OK1=1\nAWS_REGION=eu-west-1\n", nil, "line 2: AWS_REGION is reserved"},
		{"bad name", "MY-VAR=1\n", nil, `line 1: "MY-VAR" is not a name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, t.TempDir(), "env", tt.data)
			vars, err := ReadFile(p, host)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("err %v, want one naming %s and %q", err, p, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var e Env
			for _, v := range vars {
				e.Set(v)
			}
			if got := e.List(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

const samTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String}
Globals:
  Function:
    Environment:
      Variables:
        SHARED: globals
        LEVEL: globals
        PORT: 8080
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          LEVEL: function
          TABLE: !Ref Table
          QUEUE: {"Fn::GetAtt": [Queue, Arn]}
          STAGE: !Sub "${Stage}-x"
          DEBUG: true
  Table:
    Type: AWS::DynamoDB::Table
`

func TestReadTemplate(t *testing.T) {
	second := strings.Replace(samTemplate, "  Table:\n", "  OtherFunction:\n    Type: AWS::Lambda::Function\n    Properties:\n      Environment:\n        Variables:\n          OTHER: x\n  Table:\n", 1)
	tests := []struct {
		name, file, data, project string
		wantFn                    string
		want                      []string
		wantSkipped               []Skipped
	}{
		{
			name: "one function", file: "template.yaml", data: samTemplate, project: "whatever",
			wantFn:      "HelloWorldFunction",
			want:        []string{"SHARED=globals", "LEVEL=function", "PORT=8080", "DEBUG=true"},
			wantSkipped: []Skipped{{"TABLE", "HelloWorldFunction", "!Ref"}, {"QUEUE", "HelloWorldFunction", "Fn::GetAtt"}, {"STAGE", "HelloWorldFunction", "!Sub"}},
		},
		{
			name: "template.yml", file: "template.yml", data: samTemplate, project: "x",
			wantFn:      "HelloWorldFunction",
			want:        []string{"SHARED=globals", "LEVEL=function", "PORT=8080", "DEBUG=true"},
			wantSkipped: []Skipped{{"TABLE", "HelloWorldFunction", "!Ref"}, {"QUEUE", "HelloWorldFunction", "Fn::GetAtt"}, {"STAGE", "HelloWorldFunction", "!Sub"}},
		},
		{
			name: "several functions, one named after the project", file: "template.yaml", data: second, project: "other",
			wantFn: "OtherFunction",
			// AWS::Lambda::Function takes no Globals.
			want: []string{"OTHER=x"},
		},
		{
			name: "several functions, none named after the project", file: "template.yaml", data: second, project: "nope",
			want: []string{"SHARED=globals", "LEVEL=globals", "PORT=8080"},
		},
		{name: "no template", project: "x"},
		{
			name: "an Environment that is an intrinsic", file: "template.yaml", project: "x",
			data:        "Globals:\n  Function:\n    Environment: !If [Prod, {Variables: {A1: x}}, !Ref AWS::NoValue]\n",
			wantSkipped: []Skipped{{"", "Globals", "!If"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				write(t, dir, tt.file, tt.data)
			}
			tpl, err := ReadTemplate(dir, tt.project)
			if err != nil {
				t.Fatal(err)
			}
			var e Env
			for _, v := range tpl.Vars {
				e.Set(v)
			}
			if tpl.File != tt.file || tpl.Function != tt.wantFn || !reflect.DeepEqual(e.List(), tt.want) && len(tt.want)+len(e.List()) > 0 || !reflect.DeepEqual(tpl.Skipped, tt.wantSkipped) {
				t.Errorf("got file %q function %q vars %q skipped %v\nwant file %q function %q vars %q skipped %v",
					tpl.File, tpl.Function, e.List(), tpl.Skipped, tt.file, tt.wantFn, tt.want, tt.wantSkipped)
			}
		})
	}
}

func TestResolveOrder(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "template.yaml", samTemplate)
	f1 := write(t, dir, "one.env", "LEVEL=file1\nFILE_ONLY=1\n")
	f2 := write(t, dir, "two.env", "LEVEL=file2\n")
	r, err := Resolve(Sources{
		Dir: dir, Name: "hello-world",
		Config: map[string]string{"LEVEL": "config", "CONFIG_ONLY": "c", "SHARED": "config"},
		Files:  []string{f1, f2},
		Pairs:  []string{"PORT=9000", "HOSTVAR", "MISSING"},
		Lookup: lookup(map[string]string{"HOSTVAR": "from host"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SHARED=config", "LEVEL=file2", "PORT=9000", "DEBUG=true", "CONFIG_ONLY=c", "FILE_ONLY=1", "HOSTVAR=from host"}
	if got := r.Env.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if len(r.Template.Skipped) != 3 {
		t.Errorf("skipped %v", r.Template.Skipped)
	}

	errs := []struct {
		name    string
		s       Sources
		wantErr string
	}{
		{"reserved pair", Sources{Pairs: []string{"_HANDLER=x"}}, "_HANDLER=x: _HANDLER is reserved"},
		{"reserved in fnopt.yaml", Sources{Config: map[string]string{"AWS_REGION": "x"}}, "fnopt.yaml env: AWS_REGION is reserved"},
		{"reserved in the template", Sources{Dir: func() string {
			d := t.TempDir()
			write(t, d, "template.yaml", "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          AWS_LAMBDA_FUNCTION_NAME: x\n")
			return d
		}()}, "template.yaml: AWS_LAMBDA_FUNCTION_NAME is reserved"},
		{"template not YAML", Sources{Dir: func() string {
			d := t.TempDir()
			write(t, d, "template.yaml", "Resources: [\n")
			return d
		}()}, "template.yaml is not valid YAML"},
	}
	for _, tt := range errs {
		if _, err := Resolve(tt.s); err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: err %v, want one line with %q", tt.name, err, tt.wantErr)
		}
	}
	var pe *PairError
	if _, err := Resolve(Sources{Pairs: []string{"1=2"}}); !errors.As(err, &pe) || pe.Pair != "1=2" {
		t.Errorf("a bad pair: %v, want a *PairError", err)
	}
}

func TestLogicalID(t *testing.T) {
	for in, want := range map[string]string{"hello": "HelloFunction", "hello-world": "HelloWorldFunction", "my-func_2": "MyFunc2Function", "apiV2": "ApiV2Function"} {
		if got := LogicalID(in); got != want {
			t.Errorf("LogicalID(%q) = %q, want %q", in, got, want)
		}
	}
}
