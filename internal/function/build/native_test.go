package build

import (
	"bytes"
	"context"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

// TestBuildNativeGo builds the same function as an executable of each
// system verify measures on: Go cross-compiles, so the macOS and Windows
// executables are made here and checked by their format.
func TestBuildNativeGo(t *testing.T) {
	cases := []struct {
		goos, goarch string
		file         string
		isFormat     func(path string) error
	}{
		{"darwin", "arm64", "bootstrap", func(p string) error {
			f, err := macho.Open(p)
			if err == nil {
				defer f.Close()
				if f.Cpu != macho.CpuArm64 {
					t.Errorf("cpu %v, want arm64", f.Cpu)
				}
			}
			return err
		}},
		{"windows", "amd64", "bootstrap.exe", func(p string) error {
			f, err := pe.Open(p)
			if err == nil {
				f.Close()
			}
			return err
		}},
		{"linux", "amd64", "bootstrap", func(p string) error {
			f, err := elf.Open(p)
			if err == nil {
				f.Close()
			}
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.goos+"/"+c.goarch, func(t *testing.T) {
			dir := t.TempDir()
			testenv.WriteFiles(t, dir, map[string]string{"go.mod": goMod, "main.go": goFunction})
			out := t.TempDir()
			res, err := buildNative(context.Background(), dir, goConfig(settings.ARM64), Options{OutDir: out}, c.goos, c.goarch)
			if err != nil {
				t.Fatalf("buildNative: %v", err)
			}
			if res.Bootstrap != filepath.Join(out, c.file) || res.Package != "." {
				t.Errorf("result %+v", res)
			}
			for _, want := range []string{"GOOS=" + c.goos, "GOARCH=" + c.goarch, "-trimpath", settings.GoTags, "-o " + c.file} {
				if !strings.Contains(res.Command, want) {
					t.Errorf("Command %q lacks %q", res.Command, want)
				}
			}
			if err := c.isFormat(res.Bootstrap); err != nil {
				t.Errorf("%s is not a %s executable: %v", res.Bootstrap, c.goos, err)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 1 {
				t.Errorf("%s holds %v, want the executable alone", out, entries)
			}
		})
	}
}

// TestBuildNativeRust builds the Rust fixture for cargo's host target
// with the tuned profile, and runs it.
func TestBuildNativeRust(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, rustFiles)
	cfg := &config.Config{Name: "rusty", Language: config.Rust, Arch: settings.ARM64, Package: config.Zip}
	var log bytes.Buffer
	res, err := BuildNative(context.Background(), dir, cfg, Options{OutDir: t.TempDir(), Env: testenv.CargoEnv(t), Log: &log})
	if err != nil {
		t.Fatalf("BuildNative: %v\n%s", err, log.String())
	}
	if res.Package != "rusty" || strings.Contains(res.Command, "--target") || !strings.Contains(res.Command, "profile.release.strip=true") {
		t.Errorf("result %+v", res)
	}
	out, err := testenv.Command(dir, nil, res.Bootstrap).Output()
	if err != nil || strings.TrimSpace(string(out)) != `{"ok":true}` {
		t.Errorf("running %s: %q, %v", res.Bootstrap, out, err)
	}
}
