package image

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckAbsent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "there.tar")
	full := filepath.Join(dir, "full")
	empty := filepath.Join(dir, "empty")
	for _, d := range []string{full, empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{file, filepath.Join(full, "index.json")} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	registry, err := ParseRef("127.0.0.1:5000/fn:v1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ref  Ref
		want string // "" for nil, else the whole message
	}{
		{"absent folder", Ref{Kind: OCI, Path: filepath.Join(dir, "new")}, ""},
		{"empty folder", Ref{Kind: OCI, Path: empty}, ""},
		{"absent file", Ref{Kind: Tarball, Path: filepath.Join(dir, "new.tar")}, ""},
		{"registry", registry, ""},
		{"folder with files", Ref{Kind: OCI, Path: full}, "oci:" + full + ": " + full + " exists: remove it or choose another destination"},
		{"file as a layout", Ref{Kind: OCI, Path: file}, "oci:" + file + ": " + file + " exists: remove it or choose another destination"},
		{"existing tarball", Ref{Kind: Tarball, Path: file}, "tar:" + file + ": " + file + " exists: remove it or choose another destination"},
		{"empty folder as a tarball", Ref{Kind: Tarball, Path: empty}, "tar:" + empty + ": " + empty + " exists: remove it or choose another destination"},
		{"below a file", Ref{Kind: Tarball, Path: filepath.Join(file, "x.tar")}, "tar:" + filepath.Join(file, "x.tar") + ": stat "},
		{"tarball in a missing folder", Ref{Kind: Tarball, Path: filepath.Join(dir, "nope", "x.tar")}, "tar:" + filepath.Join(dir, "nope", "x.tar") + ": folder " + filepath.Join(dir, "nope") + " does not exist: create it or choose another destination"},
		{"layout in a missing folder", Ref{Kind: OCI, Path: filepath.Join(dir, "nope", "layout")}, "oci:" + filepath.Join(dir, "nope", "layout") + ": folder " + filepath.Join(dir, "nope") + " does not exist: create it or choose another destination"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckAbsent(c.ref)
			if c.want == "" {
				if err != nil {
					t.Fatalf("CheckAbsent(%s) = %v, want nil", c.ref, err)
				}
				return
			}
			var de *DestError
			if !errors.As(err, &de) || de.Ref != c.ref {
				t.Fatalf("CheckAbsent(%s) = %v, want a *DestError for it", c.ref, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("message %q, want it to start with %q", err, c.want)
			}
			// Callers tell "there already" from "cannot look" this way.
			if exists := strings.Contains(c.want, " exists: "); errors.Is(err, fs.ErrExist) != exists {
				t.Errorf("errors.Is(err, fs.ErrExist) = %v, want %v", !exists, exists)
			}
		})
	}
}

func TestCheckInsecure(t *testing.T) {
	ref := func(s string) Ref {
		r, err := ParseRef(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		ref      Ref
		insecure bool
		host     string // of the *InsecureHostError; "" for nil
	}{
		{ref("127.0.0.1:5000/fn:v1"), true, ""},
		{ref("localhost:5000/fn:v1"), true, ""},
		{ref("[::1]:5000/fn:v1"), true, ""},
		{ref("registry.example.com/fn:v1"), false, ""},
		{ref("registry.example.com/fn:v1"), true, "registry.example.com"},
		{ref("10.0.0.2:5000/fn:v1"), true, "10.0.0.2:5000"},
		{Ref{Kind: Tarball, Path: "x.tar"}, true, ""},
	} {
		err := CheckInsecure(c.ref, c.insecure)
		var he *InsecureHostError
		if c.host == "" && err != nil || c.host != "" && (!errors.As(err, &he) || he.Host != c.host) {
			t.Errorf("CheckInsecure(%s, %v) = %v, want host %q", c.ref, c.insecure, err, c.host)
		}
	}
}
