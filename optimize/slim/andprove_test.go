package slim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/registrytest"
	"github.com/fnopt/fnopt/internal/testenv"
)

// TestMinimizeAndProve: the minimised image is written only when it
// answered like the original; otherwise nothing is written and the file it
// lacks is named. Working folders never outlive the call.
func TestMinimizeAndProve(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "strace", "strace")
	img, _ := fixture(t)
	ociSrc := writeOCI(t, img)
	host := registrytest.InProcess(t)
	regSrc := host + "/fn/fixture:v1"
	ref, err := image.ParseRef(regSrc)
	if err != nil {
		t.Fatal(err)
	}
	if err := image.Write(context.Background(), img, ref, image.WriteOptions{Insecure: true}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		src        string
		opts       Options
		written    bool
		missing    string // the file the proof names
		stages     []Stage
		notePrefix string // a note the outcome holds
	}{
		{
			name: "written from a layout", src: ociSrc, written: true,
			stages: []Stage{StageMinimize, StageProve},
		},
		{
			name: "written from a registry", src: regSrc, written: true,
			stages: []Stage{StageDownload, StageMinimize, StageProve},
		},
		{
			name: "a needed file excluded: nothing written", src: ociSrc,
			opts:    Options{Exclude: []string{"/opt/plugins/libplugin.so"}},
			missing: "/opt/plugins/libplugin.so", stages: []Stage{StageMinimize, StageProve},
			notePrefix: "--exclude dropped 1 paths",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			dst := image.Ref{Kind: image.OCI, Path: filepath.Join(t.TempDir(), "slim")}
			src, err := image.ParseRef(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			var stages []Stage
			o := MinimizeAndProveOptions{Options: tc.opts, Samples: 1, Insecure: true, OnStage: func(s Stage) { stages = append(stages, s) }}
			o.Event = []byte(`{"n":1}`)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			out, err := MinimizeAndProve(ctx, src, dst, o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(stages, tc.stages) {
				t.Errorf("stages %v, want %v", stages, tc.stages)
			}
			if out.Written != tc.written || out.Proof.OK() != tc.written {
				t.Fatalf("written %v, proof OK %v (%v); want %v", out.Written, out.Proof.OK(), out.Proof.Minimised.Failure, tc.written)
			}
			if out.Proof.MissingFile != tc.missing {
				t.Errorf("missing file %q, want %q", out.Proof.MissingFile, tc.missing)
			}
			if tc.notePrefix != "" && !slices.ContainsFunc(out.Notes, func(n string) bool { return strings.HasPrefix(n, tc.notePrefix) }) {
				t.Errorf("notes %q lack %q", out.Notes, tc.notePrefix)
			}
			if out.Before.Layers != 2 || out.After.Layers != 1 || len(out.Kept) == 0 {
				t.Errorf("before %+v, after %+v, %d kept", out.Before, out.After, len(out.Kept))
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("working folders left: %v", left)
			}
			got, err := image.Load(ctx, dst, image.LoadOptions{})
			if !tc.written {
				if err == nil {
					t.Error("written although the proof failed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := got.Digest(); d != out.Digest {
				t.Errorf("wrote %s, reported %s", d, out.Digest)
			}
			if vs := image.Check(got); len(vs) > 0 {
				t.Errorf("the written image fails the check: %v", vs)
			}
		})
	}
}

// TestMinimizeAndProveRefuses: bad requests end before any work, with
// errors callers can tell apart (commands put their flags in front).
func TestMinimizeAndProveRefuses(t *testing.T) {
	img, _ := fixture(t)
	src, err := image.ParseRef(writeOCI(t, img))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Architecture = "s390x" // no machine fnopt runs on
	foreign, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	foreignSrc, err := image.ParseRef(writeOCI(t, foreign))
	if err != nil {
		t.Fatal(err)
	}
	existing := t.TempDir()
	if err := os.WriteFile(filepath.Join(existing, "index.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	free := image.Ref{Kind: image.OCI, Path: filepath.Join(t.TempDir(), "slim")}
	for _, tc := range []struct {
		name string
		src  image.Ref
		dst  image.Ref
		opts MinimizeAndProveOptions
		is   func(error) bool
	}{
		{"no cold start", src, free, MinimizeAndProveOptions{}, func(err error) bool { return err != nil }},
		{"existing destination", src, image.Ref{Kind: image.OCI, Path: existing}, MinimizeAndProveOptions{Samples: 1},
			func(err error) bool { var de *image.DestError; return errors.As(err, &de) }},
		{"every layer kept", src, free, MinimizeAndProveOptions{Samples: 1, Options: Options{KeepBase: 2, NoTrace: true}},
			func(err error) bool { var ke *KeepBaseError; return errors.As(err, &ke) && ke.Layers == 2 }},
		{"kept path not in the image", src, free, MinimizeAndProveOptions{Samples: 1, Options: Options{Keep: []string{"/nowhere"}, NoTrace: true}},
			func(err error) bool { var ke *KeepError; return errors.As(err, &ke) && ke.Path == "/nowhere" }},
		{"another architecture", foreignSrc, free, MinimizeAndProveOptions{Samples: 1},
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "this machine is") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			out, err := MinimizeAndProve(context.Background(), tc.src, tc.dst, tc.opts)
			if out != nil || !tc.is(err) {
				t.Fatalf("outcome %+v, error %v", out, err)
			}
			if _, err := os.Stat(free.Path); err == nil {
				t.Error("the destination was written")
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("working folders left: %v", left)
			}
		})
	}
}
