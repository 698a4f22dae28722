package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/oci/rootfs"
)

// tamperedImage is the image tests tamper with: one gzip layer whose
// bootstrap says hello.
func tamperedImage(t *testing.T) v1.Image {
	return imageOf(t, "arm64", v1.Config{Entrypoint: []string{"/bootstrap"}},
		gzipLayer(t, types.OCILayer, file("bootstrap", 0o755, []byte("#!/bin/sh\necho hello\n"))))
}

// otherLayer is a valid gzip layer that is not the image's: what an edit
// in place (extract, change, recompress) leaves in the blob's file.
func otherLayer(t *testing.T) []byte {
	t.Helper()
	rc, err := gzipLayer(t, types.OCILayer, file("bootstrap", 0o755, []byte("#!/bin/sh\necho EVIL!\n"))).Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func layerDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := ls[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func configDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// layoutDirOf writes img as an OCI layout folder.
func layoutDirOf(t *testing.T, img v1.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := Write(context.Background(), img, Ref{Kind: OCI, Path: dir}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func blobFile(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

// edit replaces a file with what change makes of its content, keeping it
// writable as tools that edit layouts in place do.
func edit(t *testing.T, path string, change func([]byte) []byte) {
	t.Helper()
	b := mustRead(t, path)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, change(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// editTar rewrites the tar file at path with the entry name changed.
func editTar(t *testing.T, path, name string, change func([]byte) []byte) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(mustRead(t, path)))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	found := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if cleanTarName(h.Name) == name {
			b, found = change(b), true
			h.Size = int64(len(b))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("no %s in %s", name, path)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dockerSave writes img as `docker save` (up to Docker 24) does: the
// config named after its digest, each layer uncompressed in a folder
// named after nothing in particular.
func dockerSave(t *testing.T, img v1.Image, path string) {
	t.Helper()
	cfg, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfgName := configDigest(t, img).Hex + ".json"
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{cfgName: cfg}
	var layers []string
	for i, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		name := strings.Repeat(string(rune('a'+i)), 8) + "/layer.tar"
		files[name] = b
		layers = append(layers, name)
	}
	m, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{"fn:latest"}, "Layers": layers}})
	if err != nil {
		t.Fatal(err)
	}
	files["manifest.json"] = m
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, name := range append([]string{"manifest.json", cfgName}, layers...) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(files[name]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[name])
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Blobs read from an OCI layout or a tarball are checked against their
// descriptors: a layer changed in place is not measured, checked or
// re-published as the image its manifest names (issue 12, item 5).
func TestTamperedBlobsAreRefused(t *testing.T) {
	img := tamperedImage(t)
	layer, config := layerDigest(t, img), configDigest(t, img)
	manifest := digest(t, img)
	evil := otherLayer(t)
	// An uncompressed layer, edited without changing its size, still
	// reads as a tar: only its digest tells.
	plain := imageOf(t, "arm64", v1.Config{Entrypoint: []string{"/bootstrap"}},
		plainLayer(t, file("bootstrap", 0o755, []byte("#!/bin/sh\necho hello\n"))))
	plainLayerDigest := layerDigest(t, plain)
	// appendByte makes a blob one byte longer.
	appendByte := func(b []byte) []byte { return append(b, 0) }
	// shout changes the bootstrap's text in an uncompressed layer, size
	// kept: the tar still reads.
	shout := func(b []byte) []byte { return bytes.Replace(b, []byte("echo hello"), []byte("echo HELLO"), 1) }
	// retitle changes the config and keeps it valid JSON.
	retitle := func(b []byte) []byte { return bytes.Replace(b, []byte(`"arm64"`), []byte(`"amd64"`), 1) }

	tests := []struct {
		name string
		// tamper makes the image's source and changes it; it returns the
		// reference to load.
		tamper func(t *testing.T) string
		// want is the start of the error, what follows it is the same
		// for every blob.
		want string
		// atLoad: Load refuses it (manifests and configs are small and
		// read at once); otherwise Load succeeds and reading the layer
		// fails.
		atLoad bool
	}{
		{"oci layer replaced", func(t *testing.T) string {
			dir := layoutDirOf(t, img)
			edit(t, blobFile(dir, layer), func([]byte) []byte { return evil })
			return "oci:" + dir
		}, "layer " + layer.String() + " of oci:", false},
		{"oci uncompressed layer edited, same size", func(t *testing.T) string {
			dir := layoutDirOf(t, plain)
			edit(t, blobFile(dir, plainLayerDigest), shout)
			return "oci:" + dir
		}, "layer " + plainLayerDigest.String() + " of oci:", false},
		{"oci layer one byte longer", func(t *testing.T) string {
			dir := layoutDirOf(t, img)
			edit(t, blobFile(dir, layer), appendByte)
			return "oci:" + dir
		}, "layer " + layer.String() + " of oci:", false},
		{"oci config edited", func(t *testing.T) string {
			dir := layoutDirOf(t, img)
			edit(t, blobFile(dir, config), retitle)
			return "oci:" + dir
		}, "config " + config.String() + " of oci:", true},
		{"oci manifest edited", func(t *testing.T) string {
			dir := layoutDirOf(t, img)
			edit(t, blobFile(dir, manifest), func(b []byte) []byte {
				return bytes.Replace(b, []byte(`"schemaVersion":2`), []byte(`"schemaVersion": 2`), 1)
			})
			return "oci:" + dir
		}, "manifest " + manifest.String() + " of oci:", true},
		{"oci archive layer replaced", func(t *testing.T) string {
			archive := filepath.Join(t.TempDir(), "fn.tar")
			tarDir(t, layoutDirOf(t, img), archive)
			editTar(t, archive, blobName(layer), func([]byte) []byte { return evil })
			return "tar:" + archive
		}, "layer " + layer.String() + " of tar:", false},
		{"tarball layer replaced", func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "fn.tar")
			if err := Write(context.Background(), img, Ref{Kind: Tarball, Path: file}, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			editTar(t, file, layer.Hex+".tar.gz", func([]byte) []byte { return evil })
			return "tar:" + file
		}, "layer " + layer.String() + " of tar:", false},
		{"docker save layer edited", func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "fn.tar")
			dockerSave(t, img, file)
			editTar(t, file, "aaaaaaaa/layer.tar", shout)
			return "tar:" + file
		}, "uncompressed layer " + diffID(t, img).String() + " of tar:", false},
		{"docker save config edited", func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "fn.tar")
			dockerSave(t, img, file)
			editTar(t, file, config.Hex+".json", retitle)
			return "tar:" + file
		}, "config " + config.String() + " of tar:", true},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := mustRef(t, tt.tamper(t))
			got, err := Load(ctx, ref, LoadOptions{})
			if tt.atLoad {
				checkBlobError(t, "Load", err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			// Every way fnopt reads layers: flattened to run it (a tar
			// reader that stops at the end-of-archive marker), checked
			// for Lambda, written elsewhere.
			_, err = rootfs.Flatten(ctx, got, t.TempDir(), rootfs.Limits{})
			checkBlobError(t, "Flatten", err, tt.want)
			var msgs []string
			for _, v := range Check(got) {
				msgs = append(msgs, v.Message)
			}
			if all := strings.Join(msgs, "; "); !strings.Contains(all, tt.want) {
				t.Errorf("Check: %q, want a violation with %q", all, tt.want)
			}
			err = Write(ctx, got, Ref{Kind: OCI, Path: filepath.Join(t.TempDir(), "copy")}, WriteOptions{})
			checkBlobError(t, "Write", err, tt.want)
		})
	}
}

func diffID(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.RootFS.DiffIDs[0]
}

func checkBlobError(t *testing.T, op string, err error, want string) {
	t.Helper()
	var berr *BlobError
	if !errors.As(err, &berr) {
		t.Errorf("%s: %v, want a *BlobError", op, err)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, want) || !strings.Contains(msg, "was changed after it was written; rebuild or re-pull it") || strings.Contains(msg, "\n") {
		t.Errorf("%s: %q, want one line with %q and what to do", op, msg, want)
	}
}

// Untouched sources load into images whose every blob matches its
// descriptor.
func TestLocalSourcesValidate(t *testing.T) {
	img := tamperedImage(t)
	ctx := context.Background()
	layout := layoutDirOf(t, img)
	archive := filepath.Join(t.TempDir(), "fn-oci.tar")
	tarDir(t, layout, archive)
	tarball := filepath.Join(t.TempDir(), "fn.tar")
	if err := Write(ctx, img, Ref{Kind: Tarball, Path: tarball}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "saved.tar")
	dockerSave(t, img, saved)
	for _, ref := range []string{"oci:" + layout, "tar:" + archive, "tar:" + tarball, "tar:" + saved} {
		t.Run(ref, func(t *testing.T) {
			got, err := Load(ctx, mustRef(t, ref), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			consistent(t, got)
			sameContentOrDiffIDs(t, img, got)
		})
	}
}

// sameContentOrDiffIDs compares the config and the uncompressed layers
// (a `docker save` tarball's layers are recompressed when read).
func sameContentOrDiffIDs(t *testing.T, want, got v1.Image) {
	t.Helper()
	if configDigest(t, got) != configDigest(t, want) {
		t.Errorf("config %s, want %s", configDigest(t, got), configDigest(t, want))
	}
	gl, err := got.Layers()
	if err != nil || len(gl) != 1 {
		t.Fatalf("layers %d (%v), want 1", len(gl), err)
	}
	if d, err := gl[0].DiffID(); err != nil || d != diffID(t, want) {
		t.Errorf("diff ID %s (%v), want %s", d, err, diffID(t, want))
	}
}

// The reader itself: a blob is checked at its end, or at Close when the
// reader stopped just short of it.
func TestCheckedReader(t *testing.T) {
	blob := bytes.Repeat([]byte("layer "), 1000)
	h, size, err := v1.SHA256(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content []byte
		size    int64
		read    int64 // bytes the consumer reads before Close; -1 all
		wantErr bool
	}{
		{"whole and right", blob, size, -1, false},
		{"right, size unknown", blob, -1, -1, false},
		{"right, stopped short of the end", blob, size, size - 100, false},
		{"right, given up early", blob, size, 10, false},
		{"one byte changed", append([]byte("L"), blob[1:]...), size, -1, true},
		{"one byte changed, stopped short of the end", append([]byte("L"), blob[1:]...), size, size - 100, true},
		{"one byte longer", append(blob, 'x'), size, -1, true},
		{"one byte shorter", blob[1:], size, -1, true},
		{"one byte changed, size unknown", append([]byte("L"), blob[1:]...), -1, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := newCheckedReader(io.NopCloser(bytes.NewReader(tt.content)), h, tt.size, "layer", "oci:x")
			if err != nil {
				t.Fatal(err)
			}
			var rerr error
			if tt.read < 0 {
				_, rerr = io.Copy(io.Discard, rc)
			} else {
				_, rerr = io.CopyN(io.Discard, rc, tt.read)
			}
			cerr := rc.Close()
			var berr *BlobError
			if tt.read < 0 && tt.wantErr != errors.As(rerr, &berr) {
				t.Errorf("reading: %v, want a BlobError %v", rerr, tt.wantErr)
			}
			if tt.wantErr != errors.As(cerr, &berr) {
				t.Errorf("Close: %v, want a BlobError %v", cerr, tt.wantErr)
			}
		})
	}
}

// consistent checks what validate.Image checks of the blobs, by reading
// them: the config hashes to its name, each layer to its digest and its
// diff ID. (go-containerregistry's validate package would add a module to
// the build for this.)
func consistent(t *testing.T, img v1.Image) {
	t.Helper()
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if h, _, _ := v1.SHA256(bytes.NewReader(raw)); h != configDigest(t, img) {
		t.Errorf("config hashes to %s, named %s", h, configDigest(t, img))
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range ls {
		for _, side := range []struct {
			open func() (io.ReadCloser, error)
			want func() (v1.Hash, error)
		}{{l.Compressed, l.Digest}, {l.Uncompressed, l.DiffID}} {
			want, err := side.want()
			if err != nil {
				t.Fatal(err)
			}
			rc, err := side.open()
			if err != nil {
				t.Fatal(err)
			}
			h, _, err := v1.SHA256(rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
			if err != nil || h != want {
				t.Errorf("layer %d hashes to %s (%v), want %s", i, h, err, want)
			}
		}
	}
}
