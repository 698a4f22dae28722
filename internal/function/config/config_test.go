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
			name: "build keys of a Go function",
			in:   "name: f\nlanguage: go\nbuild:\n  main: ./cmd/orders\n  tags: [orders, netgo]\n  ldflags: -X main.v=1\n",
			check: func(t *testing.T, c *Config) {
				if c.Build.Main != "./cmd/orders" || len(c.Build.Tags) != 2 || c.Build.Ldflags != "-X main.v=1" || c.ProgramKey() != "build.main" {
					t.Errorf("got %+v", c.Build)
				}
				if o := c.WithProgram("./cmd/x"); o.Build.Main != "./cmd/x" || c.Build.Main != "./cmd/orders" {
					t.Errorf("WithProgram: %q, and the original %q", o.Build.Main, c.Build.Main)
				}
			},
		},
		{
			name: "build.bin of a Rust function",
			in:   "name: f\nlanguage: rust\nbuild:\n  bin: orders\n",
			check: func(t *testing.T, c *Config) {
				if c.Build.Bin != "orders" || c.ProgramKey() != "build.bin" || c.WithProgram("pay").Build.Bin != "pay" {
					t.Errorf("got %+v", c.Build)
				}
			},
		},
		{name: "unknown build key", in: "name: f\nlanguage: go\nbuild:\n  mian: x\n", wantErr: `line 4: unknown key "mian": use one of main, bin, tags, ldflags, link`},
		{name: "bin in a Go function", in: "name: f\nlanguage: go\nbuild:\n  bin: x\n", wantErr: "build.bin names a Cargo binary"},
		{name: "main in a Rust function", in: "name: f\nlanguage: rust\nbuild:\n  main: ./cmd/x\n", wantErr: "build.main names a Go package"},
		{name: "ldflags in a Rust function", in: "name: f\nlanguage: rust\nbuild:\n  ldflags: -s\n", wantErr: "build.tags and build.ldflags are Go build settings"},
		{name: "link static in a Rust function", in: "name: f\nlanguage: rust\nbuild:\n  link: static\n",
			check: func(t *testing.T, c *Config) {
				if !c.Build.Link.Static() {
					t.Errorf("build.link %q, want static", c.Build.Link)
				}
			}},
		{name: "bad link", in: "name: f\nlanguage: rust\nbuild:\n  link: musl\n", wantErr: `build.link "musl" is not a link: give static or dynamic`},
		{name: "link in a Go function", in: "name: f\nlanguage: go\nbuild:\n  link: static\n", wantErr: "a Go bootstrap is always static"},
		{name: "two tags in one entry", in: "name: f\nlanguage: go\nbuild:\n  tags: [\"a,b\"]\n", wantErr: `build.tags entry "a,b"`},
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
