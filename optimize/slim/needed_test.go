package slim

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/oci/elfdeps"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/internal/testenv"
)

func TestShebangAndScriptPaths(t *testing.T) {
	for _, tc := range []struct {
		script, interp, arg string
		paths               []string
	}{
		{"#!/bin/sh\nexec /var/task/fn \"$@\"\n", "/bin/sh", "", []string{"/var/task/fn"}},
		{"#!/usr/bin/env python3\nimport x\n", "/usr/bin/env", "python3", nil},
		{"#! /bin/bash -e\nRUNTIME_ENTRYPOINT=/var/runtime/bootstrap\nexec \"${X}\" '/opt/a b'\n", "/bin/bash", "-e", []string{"/bin/bash", "/var/runtime/bootstrap", "/opt/a"}},
		{"#!\n", "", "", nil},
		{"#!/bin/sh -c exec /app/server --config=/etc/app.yaml", "/bin/sh", "-c", []string{"/app/server", "/etc/app.yaml"}},
	} {
		interp, arg := shebang([]byte(tc.script))
		if interp != tc.interp || arg != tc.arg {
			t.Errorf("%q: shebang %q %q, want %q %q", tc.script, interp, arg, tc.interp, tc.arg)
		}
		if got := strings.Join(scriptPaths([]byte(tc.script)), " "); got != strings.Join(tc.paths, " ") {
			t.Errorf("%q: paths %q, want %q", tc.script, got, tc.paths)
		}
	}
}

// lambdaEntrypoint is the start script of AWS's Lambda base images.
const lambdaEntrypoint = `#!/bin/sh
# Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"

RUNTIME_ENTRYPOINT=/var/runtime/bootstrap
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie $RUNTIME_ENTRYPOINT
else
  exec $RUNTIME_ENTRYPOINT
fi
`

// TestAWSBaseLayout: /lambda-entrypoint.sh leads to /var/runtime/bootstrap
// (and its libraries), not to the runtime interface emulator.
func TestAWSBaseLayout(t *testing.T) {
	b := bins(t)
	l := layerFiles{}
	l.mirrorWithLibs(t, "/bin/sh")
	l.mirrorWithLibs(t, "/usr/bin/curl")
	l.file("lambda-entrypoint.sh", []byte(lambdaEntrypoint), 0o755)
	l.file("usr/local/bin/aws-lambda-rie", []byte("not run on Lambda"), 0o755)
	l.file("var/runtime/bootstrap", mustRead(t, b.fn), 0o755) // needs libz, which curl brought
	img := imageOf(t, []string{"/lambda-entrypoint.sh"}, layerOf(t, l.tarBytes(t)))
	// A Docker v2 image (as docker build pushes it) stays one.
	img = mutate.MediaType(img, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := Minimize(context.Background(), img, Options{NoTrace: true, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if cf, err := res.Image.ConfigFile(); err != nil || !cf.Created.Time.Equal(created) {
		t.Errorf("created %v (%v), want %v", cf.Created, err, created)
	}
	ls, _ := res.Image.Layers()
	rc, err := ls[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if !h.ModTime.Equal(created) {
			t.Errorf("%s: modification time %v, want %v", h.Name, h.ModTime, created)
			break
		}
	}
	rc.Close()
	if mt, _ := res.Image.MediaType(); mt != types.DockerManifestSchema2 {
		t.Errorf("manifest type %s, want the original's Docker v2", mt)
	}
	if ls, _ := res.Image.Layers(); len(ls) == 1 {
		if mt, _ := ls[0].MediaType(); mt != types.DockerLayer {
			t.Errorf("layer type %s, want a Docker layer", mt)
		}
	}
	kept := keptPaths(res)
	if r := strings.Join(kept["/var/runtime/bootstrap"], ";"); !strings.Contains(r, "named in script /lambda-entrypoint.sh") {
		t.Errorf("bootstrap reasons %q", r)
	}
	if r, ok := kept["/usr/local/bin/aws-lambda-rie"]; ok {
		t.Errorf("the emulator is kept: %v", r)
	}
	if _, ok := kept["/usr/bin/curl"]; ok {
		t.Error("curl kept")
	}
	libz := false
	for p, r := range kept {
		if strings.Contains(p, "libz.so") && strings.Contains(strings.Join(r, ";"), "needed by /var/runtime/bootstrap") {
			libz = true
		}
	}
	if !libz {
		t.Errorf("libz not kept for the bootstrap: %v", kept)
	}
	if len(res.Missing) != 2 || !strings.Contains(strings.Join(res.Missing, ";"), "libgreet.so.1, needed by /var/runtime/bootstrap, is not in the image") {
		t.Errorf("missing %v, want libgreet and libm (not in this image)", res.Missing)
	}
}

// TestOriginalFails: an image that does not answer its traced invocation
// has nothing to preserve.
func TestOriginalFails(t *testing.T) {
	testenv.RequireRoot(t)
	l := layerFiles{}
	l.mirrorWithLibs(t, "/bin/sh")
	l.dirs("var/task")
	img := imageOf(t, []string{"/bin/sh", "-c", "echo cannot start >&2; exit 3"}, layerOf(t, l.tarBytes(t)))
	_, err := Minimize(context.Background(), img, Options{})
	if !errors.Is(err, ErrOriginalFails) || !strings.Contains(err.Error(), "cannot start") {
		t.Errorf("got %v, want ErrOriginalFails with the function's output", err)
	}
}

// TestLookPath finds commands as a container runtime does.
func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	for p, mode := range map[string]os.FileMode{"usr/bin/app": 0o755, "opt/bin/app": 0o755, "work/run": 0o755, "usr/bin/data": 0o644} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("x"), mode)
	}
	os.Symlink("usr/bin", filepath.Join(dir, "bin"))
	cf := func(env ...string) *v1.ConfigFile {
		return &v1.ConfigFile{Config: v1.Config{Env: env, WorkingDir: "/work"}}
	}
	for _, tc := range []struct {
		cf         *v1.ConfigFile
		name, want string
	}{
		{cf(), "app", "/usr/bin/app"},                         // the default PATH
		{cf("PATH=/opt/bin:/usr/bin"), "app", "/opt/bin/app"}, // the image's PATH, in order
		{cf("PATH=/bin"), "app", "/bin/app"},                  // through a symlinked folder
		{cf(), "./run", "/work/run"},                          // relative to the working folder
		{cf(), "/usr/bin/app", "/usr/bin/app"},                // absolute
		{cf("PATH=/usr/bin"), "data", ""},                     // not executable
		{cf(), "missing", ""},                                 // not there
	} {
		k := newKeeper(elfdeps.NewRoot(dir), &inventory{tree: rootfs.NewTree()}, tc.cf)
		got, err := k.lookPath(tc.name)
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("%s with %v: %q (%v), want %q", tc.name, tc.cf.Config.Env, got, err, tc.want)
		}
	}
}
