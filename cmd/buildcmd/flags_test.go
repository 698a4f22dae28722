package buildcmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
)

// Flags become the library's options, or an error naming the flag; no
// build runs.
func TestFlags(t *testing.T) {
	cases := []struct {
		args    []string
		dir     string
		arch    settings.Arch
		pkg     config.Packaging
		dest    string // the image destination, as ParseRef reads it
		base    string
		flags   string // the booleans set: c no-ca-certs, i insecure, v verbose, j json
		wantErr string // the whole message
	}{
		{args: nil, dir: "."},
		{args: []string{"fn", "--arch", "amd64"}, dir: "fn", arch: settings.X86_64},
		{args: []string{"--arch", "aarch64", "--package", "image"}, dir: ".", arch: settings.ARM64, pkg: "image"},
		{args: []string{"--image-out", "tar:fn.tar", "--base", "oci:base:v1", "--no-ca-certs", "--insecure", "-v", "--json"}, dir: ".", dest: "tar:fn.tar", base: "oci:base:v1", flags: "civj"},
		// --image-out implies an image whatever --package says.
		{args: []string{"--package", "deb", "--image-out", "127.0.0.1:5000/fn:v1"}, dir: ".", dest: "127.0.0.1:5000/fn:v1"},
		{args: []string{"--arch", "sparc"}, wantErr: `invalid --arch "sparc": use one of arm64, x86_64`},
		{args: []string{"--package", "deb"}, wantErr: `invalid --package "deb": use one of zip, image`},
		{args: []string{"--arch", "AMD64"}, dir: ".", arch: settings.X86_64}, // the aliases fnopt new and fnopt.yaml accept
		{args: []string{"--image-out", "oci:"}, wantErr: `--image-out: image reference "oci:": missing folder; write oci:DIR[:TAG]`},
		{args: []string{"--base", "base.tar"}, wantErr: `--base: image reference "base.tar" looks like a path: write oci:base.tar for an OCI layout folder or tar:base.tar for a tarball`},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.args), func(t *testing.T) {
			ios, _, _, _ := cmdutil.Test()
			var got *Options
			cmd := newCmd(ios, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(c.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			do, err := got.distOptions()
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("error %v, want %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			base := ""
			if do.Image.Base != nil {
				base = do.Image.Base.String()
			}
			if got.Dir != c.dir || do.Arch != c.arch || do.Package != c.pkg || do.Image.Dest.String() != c.dest || base != c.base {
				t.Errorf("dir %q, options %+v; want dir %q, arch %q, package %q, dest %q, base %q", got.Dir, do, c.dir, c.arch, c.pkg, c.dest, c.base)
			}
			flags := ""
			for _, f := range []struct {
				set  bool
				name string
			}{{do.Image.NoCACerts, "c"}, {do.Image.Insecure, "i"}, {do.Verbose, "v"}, {got.JSON, "j"}} {
				if f.set {
					flags += f.name
				}
			}
			if flags != c.flags || do.Log != ios.ErrOut || do.Progress == nil {
				t.Errorf("flags %q, want %q; log %v, progress %v", flags, c.flags, do.Log, do.Progress)
			}
		})
	}
}

// The library's errors about options are printed with the flags that set
// them, in the words fnopt build has always used.
func TestWithFlags(t *testing.T) {
	tarRef := image.Ref{Kind: image.Tarball, Path: "/x/fn.tar"}
	other := errors.New("go build failed")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"destination exists", &image.DestError{Ref: tarRef, Err: fs.ErrExist}, "--image-out tar:/x/fn.tar: /x/fn.tar exists: remove it or choose another destination"},
		{"destination unreadable", &image.DestError{Ref: tarRef, Err: fs.ErrPermission}, "--image-out tar:/x/fn.tar: permission denied"},
		{"image options without an image", dist.ErrImageOnly, "--base, --no-ca-certs, --min-efficiency, --max-wasted and --max-user-wasted-percent apply to images: add --package image or --image-out DEST"},
		{"no loader", fmt.Errorf("the image breaks Lambda's rule %s: %w", image.RuleLoader, dist.ErrNoLoader),
			"the image breaks Lambda's rule dynamic-loader: the bootstrap is dynamically linked and an image without a base has no loader or libc: pass --base with a provided.al2023 image (public.ecr.aws/lambda/provided:al2023), or deploy dist/function.zip"},
		{"anything else", other, "go build failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := withFlags(c.err).Error(); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}
