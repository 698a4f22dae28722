package image

import (
	"archive/tar"
	"errors"
	"io/fs"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestMergedTree: Check's view of an image is rootfs's merged tree, by
// Flatten's rules, with the start of every executable kept; lookPath
// finds commands in it as exec does.
func TestMergedTree(t *testing.T) {
	oci := types.OCILayer
	img := imageOf(t, "amd64", v1.Config{},
		gzipLayer(t, oci,
			dir("usr/"), dir("usr/lib/"), file("usr/lib/libc.so", 0o755, []byte("libc")),
			symlink("lib", "usr/lib"),
			dir("opt/"), file("opt/data", 0o644, []byte("v1")),
			file("bin", 0o644, nil),
			dir("var/"), dir("srv/"), symlink("var/task", "/srv"),
		),
		gzipLayer(t, oci,
			dir("opt/"), file("opt/data", 0o600, []byte("v2")),
			dir("bin/"), file("bin/tool", 0o755, []byte("#!/bin/sh\n")),
			entry{name: "hard", typ: tar.TypeLink, link: "bin/tool"},
			file("../../outside", 0o644, nil),
			// Below the lower layer's symlink, without listing the
			// folder: the file is where the symlink leads.
			file("var/task/bootstrap", 0o755, []byte("\x7fELF")),
		),
	)
	f := readFiles(t, img)
	for _, tc := range []struct {
		path string
		want string // where it is; "" = not in the tree
		head string
	}{
		{path: "/bin/tool", want: "/bin/tool", head: "#!/bin/sh\n"},
		{path: "/hard", want: "/hard", head: "#!/bin/sh\n"},
		{path: "/var/task/bootstrap", want: "/srv/bootstrap", head: "\x7fELF"},
		{path: "/opt/data", want: "/opt/data"},
		{path: "/outside"}, // a name with "..": left out, as Flatten leaves it out
	} {
		got, err := f.Resolve(tc.path)
		switch {
		case tc.want == "" && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("Resolve(%s) = %+v, %v; want not found", tc.path, got, err)
		case tc.want != "" && (err != nil || got.Path != tc.want || string(got.Head) != tc.head):
			t.Errorf("Resolve(%s) = %s head %q (%v); want %s head %q", tc.path, got.Path, got.Head, err, tc.want, tc.head)
		}
	}

	for _, tc := range []struct {
		file, path, workdir, want string
	}{
		{"tool", "/nope:/bin", "", "/bin/tool"},
		{"libc.so", "/lib", "", "/lib/libc.so"},
		{"./tool", "", "/bin", "/bin/tool"},
		{"hard", "/", "", "/hard"},
		{"data", "/opt:/bin", "", "/opt/data"}, // found, though not executable
		{"bootstrap", "/var/task", "", "/var/task/bootstrap"},
	} {
		got, _, err := lookPath(f, tc.file, tc.path, tc.workdir)
		if err != nil || got != tc.want {
			t.Errorf("lookPath(%q, %q, %q) = %q, %v; want %q", tc.file, tc.path, tc.workdir, got, err, tc.want)
		}
	}
	if _, _, err := lookPath(f, "missing", "/bin:/usr/bin", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lookPath(missing): %v", err)
	}
}
