package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "full",
			in:   "name: f\nlanguage: rust\nevent: sqs\narch: x86_64\npackage: image\nclient: minimal\nbudgets:\n  init_p50_ms: 12.5\n  artifact_bytes: 500000\n",
			check: func(t *testing.T, c *Config) {
				if c.Language != "rust" || c.Event != "sqs" || c.Package != "image" || c.Budgets.InitP50Ms != 12.5 || c.Budgets.ArtifactBytes != 500000 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "defaults for arch and package",
			in:   "name: f\nlanguage: go\n",
			check: func(t *testing.T, c *Config) {
				if c.Arch != "arm64" || c.Package != "zip" {
					t.Errorf("defaults: arch %q package %q", c.Arch, c.Package)
				}
			},
		},
		{name: "unknown key", in: "name: f\nlanguage: go\nlangauge: go\n", wantErr: `fnopt.yaml line 3: unknown key "langauge": use one of name, language, event, arch, package, client, budgets`},
		{name: "unknown budget", in: "name: f\nlanguage: go\nbudget:\n  init_p50_ms: 1\n", wantErr: `line 3: unknown key "budget"`},
		{name: "unknown key in budgets", in: "name: f\nlanguage: go\nbudgets:\n  init_p50: 1\n", wantErr: `fnopt.yaml line 4: unknown key "init_p50": use one of init_p50_ms, init_p90_ms, artifact_bytes`},
		{name: "wrong type", in: "name: f\nlanguage: go\nbudgets:\n  init_p50_ms: fast\n", wantErr: "line 4: cannot unmarshal"},
		{name: "bad language", in: "name: f\nlanguage: cobol\n", wantErr: `language "cobol"`},
		{name: "bad arch", in: "name: f\nlanguage: go\narch: mips\n", wantErr: `arch "mips"`},
		{
			name: "arch alias in Lambda's spelling",
			in:   "name: f\nlanguage: go\narch: amd64\n",
			check: func(t *testing.T, c *Config) {
				if c.Arch != "x86_64" {
					t.Errorf("arch %q, want x86_64", c.Arch)
				}
			},
		},
		{name: "bad client", in: "name: f\nlanguage: go\nclient: tiny\n", wantErr: `client "tiny" is not one of [official minimal]`},
		{name: "bad package", in: "name: f\nlanguage: go\npackage: tar\n", wantErr: `package "tar" is not one of [zip image]`},
		{name: "bad event", in: "name: f\nlanguage: go\nevent: kafka\n", wantErr: `event "kafka"`},
		{name: "negative budget", in: "name: f\nlanguage: go\nbudgets:\n  init_p90_ms: -1\n", wantErr: "negative"},
		{name: "not yaml", in: "name: [\n", wantErr: "not valid"},
		{
			name: "env",
			in:   "name: f\nlanguage: go\nenv:\n  TABLE: orders\n  PORT: 8080\n",
			check: func(t *testing.T, c *Config) {
				if c.Env["TABLE"] != "orders" || c.Env["PORT"] != "8080" || len(c.Env) != 2 {
					t.Errorf("env %v", c.Env)
				}
			},
		},
		{name: "reserved env", in: "name: f\nlanguage: go\nenv:\n  AWS_REGION: x\n", wantErr: "fnopt.yaml: env: AWS_REGION is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadDetects(t *testing.T) {
	tests := []struct {
		file string
		lang Language
	}{
		{"go.mod", "go"},
		{"Cargo.toml", "rust"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "myfn")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tt.file), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if c.Language != tt.lang || c.Name != "myfn" || c.Arch != "arm64" || c.Package != "zip" {
				t.Errorf("got %+v", c)
			}
		})
	}
	t.Run("not a project", func(t *testing.T) {
		_, err := Load(t.TempDir())
		if !errors.Is(err, ErrNotProject) {
			t.Fatalf("error %v, want ErrNotProject", err)
		}
	})
}
