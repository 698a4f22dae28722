package image

import (
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in      string
		kind    Kind
		path    string
		tag     string
		name    string
		wantErr string
	}{
		{in: "oci:dist/image", kind: OCI, path: "dist/image"},
		{in: "oci:dist/image:v1", kind: OCI, path: "dist/image", tag: "v1"},
		{in: "oci:/abs/dir:1.2.3-rc_1", kind: OCI, path: "/abs/dir", tag: "1.2.3-rc_1"},
		{in: "oci:./a:b:c", kind: OCI, path: "./a:b", tag: "c"},
		{in: "oci:dir:with/slash", kind: OCI, path: "dir:with/slash"},
		{in: "tar:fn.tar", kind: Tarball, path: "fn.tar"},
		{in: "tar:/tmp/a:b.tar", kind: Tarball, path: "/tmp/a:b.tar"},
		{in: "127.0.0.1:5000/team/fn:v1", kind: Registry, name: "127.0.0.1:5000/team/fn:v1"},
		{in: "docker://localhost:5000/fn", kind: Registry, name: "localhost:5000/fn:latest"},
		{in: "ghcr.io/o/fn@sha256:" + strings.Repeat("a", 64), kind: Registry, name: "ghcr.io/o/fn@sha256:" + strings.Repeat("a", 64)},
		{in: "oci:", wantErr: "missing folder"},
		{in: "oci::v1", wantErr: "missing folder"},
		{in: "oci:dir:", wantErr: "empty tag"},
		{in: "tar:", wantErr: "missing file"},
		{in: "", wantErr: "empty image reference"},
		{in: "./dist/image", wantErr: "write oci:./dist/image"},
		{in: "/tmp/fn.tar", wantErr: "tar:/tmp/fn.tar"},
		{in: "Registry/UPPER:tag", wantErr: "want oci:DIR[:TAG]"},
		{in: "host/repo:bad tag", wantErr: "want oci:DIR[:TAG]"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseRef(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v (%+v), want an error containing %q", err, r, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind || r.Path != tc.path || r.Tag != tc.tag {
				t.Fatalf("got %+v", r)
			}
			if tc.name != "" && r.Name.Name() != tc.name {
				t.Fatalf("name %q, want %q", r.Name.Name(), tc.name)
			}
			// String gives back something ParseRef reads the same.
			again, err := ParseRef(r.String())
			if err != nil || again.String() != r.String() {
				t.Fatalf("String %q reads back as %+v (%v)", r.String(), again, err)
			}
		})
	}
}

func TestTagFromFile(t *testing.T) {
	for in, want := range map[string]string{
		"dist/hello.tar":    "hello:latest",
		"My Function.tar":   "my-function:latest",
		"/tmp/.tar":         "image:latest",
		"fn.v2.tar.partial": "fn.v2.tar:latest",
	} {
		if got := tagFromFile(in); got != want {
			t.Errorf("tagFromFile(%q) = %q, want %q", in, got, want)
		}
	}
}
