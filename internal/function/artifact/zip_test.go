package artifact

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeBootstrap(t *testing.T, dir string, data []byte, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(p, data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWriteZipIsDeterministic(t *testing.T) {
	data := bytes.Repeat([]byte("\x7fELF fake program text "), 1000)
	// The same content with different file modes and times on disk, in
	// different folders: the zips must be byte-identical anyway.
	a := writeBootstrap(t, t.TempDir(), data, time.Now())
	b := writeBootstrap(t, t.TempDir(), data, time.Date(2001, 2, 3, 4, 5, 6, 0, time.Local))
	if err := os.Chmod(b, 0o755); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	za, zb := filepath.Join(out, "a.zip"), filepath.Join(out, "b.zip")
	na, err := WriteZip(a, za)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := WriteZip(b, zb)
	if err != nil {
		t.Fatal(err)
	}
	ba, _ := os.ReadFile(za)
	bb, _ := os.ReadFile(zb)
	if !bytes.Equal(ba, bb) {
		t.Fatalf("zips differ: %d and %d bytes", len(ba), len(bb))
	}
	if na != int64(len(ba)) || nb != int64(len(bb)) {
		t.Errorf("reported sizes %d, %d; files are %d bytes", na, nb, len(ba))
	}
	// Compressed well below the input: deflate was used.
	if len(ba) >= len(data)/4 {
		t.Errorf("zip is %d bytes for %d bytes of repetitive input: not compressed", len(ba), len(data))
	}
}

func TestWriteZipContent(t *testing.T) {
	data := []byte("#!/bin/sh\necho hello\n")
	src := writeBootstrap(t, t.TempDir(), data, time.Now())
	zp := filepath.Join(t.TempDir(), "function.zip")
	if _, err := WriteZip(src, zp); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zp)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		t.Fatalf("%d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"name", f.Name, "bootstrap"},
		{"mode", f.Mode(), os.FileMode(0o755)},
		{"creator OS (3 = unix)", f.CreatorVersion >> 8, uint16(3)},
		{"method", f.Method, zip.Deflate},
		{"modified", f.Modified.UTC(), time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Errorf("content %q, want %q", got, data)
	}
	fi, err := os.Stat(zp)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("zip file mode %v, want 0644", fi.Mode().Perm())
	}
}

// zipinfo (Info-ZIP, the unzip package) is an independent reader: it must
// show the exec bit that Lambda relies on.
func TestZipinfoShowsExecutable(t *testing.T) {
	zipinfo, err := exec.LookPath("zipinfo")
	if err != nil {
		t.Fatalf("zipinfo not found: run `make setup` (Debian package unzip)")
	}
	src := writeBootstrap(t, t.TempDir(), []byte("binary"), time.Now())
	zp := filepath.Join(t.TempDir(), "function.zip")
	if _, err := WriteZip(src, zp); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zipinfo, zp).CombinedOutput()
	if err != nil {
		t.Fatalf("zipinfo: %v\n%s", err, out)
	}
	var line string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasSuffix(l, " bootstrap") {
			line = l
		}
	}
	if !strings.HasPrefix(line, "-rwxr-xr-x") || !strings.Contains(line, " unx ") {
		t.Errorf("zipinfo line for bootstrap is %q, want -rwxr-xr-x ... unx ...\n%s", line, out)
	}
}

func TestWriteZipFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	zp := filepath.Join(dir, "function.zip")
	old := []byte("previous zip")
	if err := os.WriteFile(zp, old, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, src string
	}{
		{"missing bootstrap", filepath.Join(dir, "nope")},
		{"bootstrap is a folder", t.TempDir()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := WriteZip(c.src, zp); err == nil {
				t.Fatal("WriteZip succeeded")
			}
			got, _ := os.ReadFile(zp)
			if !bytes.Equal(got, old) {
				t.Errorf("existing zip changed to %q", got)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("folder holds %d entries after a failed write, want only function.zip", len(ents))
			}
		})
	}
}
