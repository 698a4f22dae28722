package image

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/function/settings"
)

func TestBuildReproducible(t *testing.T) {
	ctx := context.Background()
	for _, arch := range []settings.Arch{settings.ARM64, settings.X86_64} {
		t.Run(string(arch), func(t *testing.T) {
			opts := BuildOptions{Bootstrap: bootstrap(t, arch), Arch: arch, CACerts: true,
				Labels: map[string]string{LabelSource: "example.com/fn", LabelSettings: "-trimpath"}}
			a, err := Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if da, db := digest(t, a), digest(t, b); da != db {
				t.Fatalf("two builds differ: %s and %s", da, db)
			}
			if vs := Check(a); len(vs) > 0 {
				t.Fatalf("built image fails the check: %v", vs)
			}

			t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
			created, err := SourceDateEpoch()
			if err != nil {
				t.Fatal(err)
			}
			opts.Created = created
			c, err := Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Build(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			if dc, dd := digest(t, c), digest(t, d); dc != dd {
				t.Fatalf("two builds with SOURCE_DATE_EPOCH differ: %s and %s", dc, dd)
			}
			if digest(t, c) == digest(t, a) {
				t.Fatalf("SOURCE_DATE_EPOCH did not change the image")
			}
			cf, err := c.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if !cf.Created.Time.Equal(created) {
				t.Errorf("created %s, want %s", cf.Created.Time, created)
			}
			// Every tar entry carries the epoch, root ownership.
			layers, _ := c.Layers()
			for _, l := range layers {
				rc, err := l.Uncompressed()
				if err != nil {
					t.Fatal(err)
				}
				tr := tar.NewReader(rc)
				for {
					h, err := tr.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if !h.ModTime.Equal(created) || h.Uid != 0 || h.Gid != 0 {
						t.Errorf("%s: mtime %s uid %d gid %d", h.Name, h.ModTime, h.Uid, h.Gid)
					}
				}
				rc.Close()
			}
		})
	}
}

func TestBuildContents(t *testing.T) {
	ctx := context.Background()
	boot := bootstrap(t, settings.ARM64)
	img, err := Build(ctx, BuildOptions{Bootstrap: boot, Arch: settings.ARM64, CACerts: true,
		Labels: map[string]string{LabelSource: "example.com/fn"}})
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	if mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s", mt)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{BootstrapPath}) || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if cf.Config.WorkingDir != TaskRoot {
		t.Errorf("workdir %q", cf.Config.WorkingDir)
	}
	for _, want := range []string{"LAMBDA_TASK_ROOT=/var/task", "LAMBDA_RUNTIME_DIR=/var/runtime", "PATH=" + DefaultPath} {
		if !slices.Contains(cf.Config.Env, want) {
			t.Errorf("env %q lacks %s", cf.Config.Env, want)
		}
	}
	for k, v := range map[string]string{LabelSource: "example.com/fn", LabelArch: "arm64", LabelRuntime: settings.Runtime, LabelCACerts: "true"} {
		if cf.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], v)
		}
	}
	m, _ := img.Manifest()
	if len(m.Layers) != 2 {
		t.Fatalf("%d layers, want 2 (CA certificates, bootstrap)", len(m.Layers))
	}
	for _, l := range m.Layers {
		if l.MediaType != types.OCILayer {
			t.Errorf("layer media type %s", l.MediaType)
		}
	}
	files := readFiles(t, img)
	for p, want := range map[string]struct {
		typ  byte
		mode int64 // tar's mode bits
	}{
		BootstrapPath: {tar.TypeReg, 0o755},
		CACertsPath:   {tar.TypeReg, 0o644},
		CABundlePath:  {tar.TypeSymlink, 0o777},
		TaskRoot:      {tar.TypeDir, 0o755},
		"/tmp":        {tar.TypeDir, 0o1777},
	} {
		f, ok := files.Lookup(p)
		if !ok || f.Type != want.typ || f.Mode != want.mode {
			t.Errorf("%s: %+v (found %v), want type %c mode %v", p, f.Type, ok, want.typ, want.mode)
		}
	}
	if got, err := files.Resolve(CABundlePath); err != nil || got.Path != CACertsPath {
		t.Errorf("%s resolves to %q (%v), want %s", CABundlePath, got.Path, err, CACertsPath)
	}
	bootFile, _ := files.Lookup(BootstrapPath)
	if fi, _ := os.Stat(boot); bootFile.Size != fi.Size() {
		t.Errorf("bootstrap size %d, want %d", bootFile.Size, fi.Size())
	}

	noCerts, err := Build(ctx, BuildOptions{Bootstrap: boot, Arch: settings.ARM64})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := LayerCount(noCerts); n != 1 {
		t.Errorf("without CA certificates: %d layers, want 1", n)
	}
	if _, ok := readFiles(t, noCerts).Lookup(CACertsPath); ok {
		t.Errorf("CA bundle present although CACerts is false")
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	script := filepath.Join(dir, "text")
	os.WriteFile(script, []byte("just text\n"), 0o755)
	for _, tc := range []struct {
		name string
		opts BuildOptions
		want string
	}{
		{"wrong ELF machine", BuildOptions{Bootstrap: bootstrap(t, settings.X86_64), Arch: settings.ARM64}, "built for x86_64"},
		{"missing bootstrap", BuildOptions{Bootstrap: filepath.Join(dir, "nope"), Arch: settings.ARM64}, "no such file"},
		{"not an executable", BuildOptions{Bootstrap: script, Arch: settings.ARM64}, "neither an ELF"},
		{"bad arch", BuildOptions{Bootstrap: script, Arch: "mips"}, "use arm64 or x86_64"},
		{"missing CA bundle", BuildOptions{Bootstrap: bootstrap(t, settings.ARM64), Arch: settings.ARM64, CACerts: true, CACertsFile: filepath.Join(dir, "none.crt")}, "--no-ca-certs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(ctx, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestSourceDateEpoch(t *testing.T) {
	for _, tc := range []struct {
		env     string
		want    time.Time
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"0", time.Unix(0, 0).UTC(), false},
		{"1700000000", time.Unix(1700000000, 0).UTC(), false},
		{"yesterday", time.Time{}, true},
		{"-5", time.Time{}, true},
	} {
		t.Setenv("SOURCE_DATE_EPOCH", tc.env)
		got, err := SourceDateEpoch()
		if (err != nil) != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("SOURCE_DATE_EPOCH=%q: %v, %v", tc.env, got, err)
		}
	}
}
