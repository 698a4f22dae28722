package image

import (
	"archive/tar"
	"errors"
	"io/fs"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestFiles(t *testing.T) {
	oci := types.OCILayer
	img := imageOf(t, "amd64", v1.Config{},
		gzipLayer(t, oci,
			dir("usr/"), dir("usr/lib/"), file("usr/lib/libc.so", 0o755, []byte("libc")),
			symlink("lib", "usr/lib"),
			dir("etc/"), file("etc/gone", 0o644, nil), dir("etc/app/"), file("etc/app/old", 0o644, nil),
			dir("opt/"), file("opt/data", 0o644, []byte("v1")),
			file("bin", 0o644, nil),
			dir("escape/"), symlink("escape/up", "../../../../etc"),
			symlink("abs", "/usr/lib/libc.so"),
		),
		gzipLayer(t, oci,
			dir("etc/"), file("etc/.wh.gone", 0o644, nil),
			dir("etc/app/"), file("etc/app/.wh..wh..opq", 0o644, nil), file("etc/app/new", 0o644, nil),
			dir("opt/"), file("opt/data", 0o600, []byte("v2")),
			dir("bin/"), file("bin/tool", 0o755, []byte("#!/bin/sh\n")),
			entry{name: "hard", typ: tar.TypeLink, link: "bin/tool"},
			file("../../outside", 0o644, nil),
		),
	)
	f := readFiles(t, img)
	for _, tc := range []struct {
		path    string
		want    string // resolved path; "" = must not exist
		typ     byte
		mode    fs.FileMode
		missing bool
	}{
		{path: "/lib/libc.so", want: "/usr/lib/libc.so", typ: tar.TypeReg, mode: 0o755},
		{path: "/abs", want: "/usr/lib/libc.so", typ: tar.TypeReg, mode: 0o755},
		{path: "/escape/up/app/new", want: "/etc/app/new", typ: tar.TypeReg, mode: 0o644},
		{path: "/etc/gone", missing: true},
		{path: "/etc/app/old", missing: true},
		{path: "/opt/data", want: "/opt/data", typ: tar.TypeReg, mode: 0o600},
		{path: "/bin/tool", want: "/bin/tool", typ: tar.TypeReg, mode: 0o755},
		{path: "/hard", want: "/bin/tool", typ: tar.TypeReg, mode: 0o755},
		{path: "/outside", want: "/outside", typ: tar.TypeReg, mode: 0o644},
		{path: "/../../lib/../lib/libc.so", want: "/usr/lib/libc.so", typ: tar.TypeReg, mode: 0o755},
	} {
		t.Run(tc.path, func(t *testing.T) {
			got, fi, err := f.Resolve(tc.path)
			if tc.missing {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("got %q, %v; want not found", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || fi.Type != tc.typ || fi.Mode != tc.mode {
				t.Fatalf("got %s type %c mode %v, want %s type %c mode %v", got, fi.Type, fi.Mode, tc.want, tc.typ, tc.mode)
			}
		})
	}
	if fi, ok := f.Lookup("/lib"); !ok || fi.Type != tar.TypeSymlink || fi.Link != "usr/lib" {
		t.Errorf("Lookup(/lib) = %+v, %v: want the symlink itself", fi, ok)
	}
	if fi, _ := f.Lookup("/bin/tool"); string(fi.Head) != "#!/bin/sh\n" || fi.Layer != 1 {
		t.Errorf("/bin/tool head %q layer %d", fi.Head, fi.Layer)
	}
	if !slices.Contains(f.Paths(), "/etc/app/new") || slices.Contains(f.Paths(), "/etc/app/old") {
		t.Errorf("paths %v", f.Paths())
	}

	for _, tc := range []struct {
		file, path, workdir, want string
	}{
		{"tool", "/nope:/bin", "", "/bin/tool"},
		{"libc.so", "/lib", "", "/lib/libc.so"},
		{"./tool", "", "/bin", "/bin/tool"},
		{"data", "/opt:/bin", "", "/opt/data"}, // found, though not executable
	} {
		got, _, err := f.LookPath(tc.file, tc.path, tc.workdir)
		if err != nil || got != tc.want {
			t.Errorf("LookPath(%q, %q, %q) = %q, %v; want %q", tc.file, tc.path, tc.workdir, got, err, tc.want)
		}
	}
	if _, _, err := f.LookPath("missing", "/bin:/usr/bin", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LookPath(missing): %v", err)
	}
}

func TestSizes(t *testing.T) {
	img := builtImage(t, "arm64")
	s, err := SizesOf(img)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	raw, _ := img.RawManifest()
	var layers, uncompressed int64
	ls, _ := img.Layers()
	for _, l := range ls {
		n, _ := l.Size()
		layers += n
		rc, _ := l.Uncompressed()
		buf := make([]byte, 1<<16)
		for {
			k, err := rc.Read(buf)
			uncompressed += int64(k)
			if err != nil {
				break
			}
		}
		rc.Close()
	}
	want := Sizes{
		Compressed:       layers + m.Config.Size + int64(len(raw)),
		LayersCompressed: layers,
		Uncompressed:     uncompressed,
		Config:           m.Config.Size,
		Manifest:         int64(len(raw)),
		Layers:           2,
	}
	if s != want {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	if s.Uncompressed <= s.LayersCompressed {
		t.Errorf("uncompressed %d not above compressed %d", s.Uncompressed, s.LayersCompressed)
	}
}
