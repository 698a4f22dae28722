package buildcmd

import (
	"strings"
	"testing"
)

// The text report, exactly: sizes from a KiB on carry the exact count.
func TestWriteText(t *testing.T) {
	base := Report{
		Name: "hello", Language: "go", Arch: "arm64",
		Settings:  Settings{Command: "GOOS=linux GOARCH=arm64 go build -o dist/bootstrap ."},
		Bootstrap: FileReport{Path: "dist/bootstrap", Bytes: 5 << 20},
		Zip:       FileReport{Path: "dist/function.zip", Bytes: 2 << 20},
	}
	withImage := base
	withImage.Image = &ImageReport{Destination: "oci:dist/image", Digest: "sha256:ab", Platform: "linux/arm64", CompressedBytes: 900, UncompressedBytes: 3 << 30}
	kept := base
	kept.Language = "rust"
	kept.Settings.KeptProfile = []string{"lto = false", "opt-level = 2"}
	tiny := base
	tiny.Bootstrap.Bytes, tiny.Zip.Bytes = 1000, 0
	cases := []struct {
		name string
		r    Report
		want string
	}{
		{"zip", base, `built hello (go, arm64)
  settings   GOOS=linux GOARCH=arm64 go build -o dist/bootstrap .
  bootstrap  dist/bootstrap     5.0 MiB (5242880 bytes)
  zip        dist/function.zip  2.0 MiB (2097152 bytes), 40% of the binary
`},
		{"image", withImage, `built hello (go, arm64)
  settings   GOOS=linux GOARCH=arm64 go build -o dist/bootstrap .
  bootstrap  dist/bootstrap     5.0 MiB (5242880 bytes)
  zip        dist/function.zip  2.0 MiB (2097152 bytes), 40% of the binary
  image      oci:dist/image     900 B compressed, 3.00 GiB (3221225472 bytes) uncompressed
  digest     sha256:ab (linux/arm64)
`},
		{"kept Cargo profile", kept, `built hello (rust, arm64)
  settings   GOOS=linux GOARCH=arm64 go build -o dist/bootstrap .
  kept       lto = false, opt-level = 2 (Cargo.toml's [profile.release], not overridden)
  bootstrap  dist/bootstrap     5.0 MiB (5242880 bytes)
  zip        dist/function.zip  2.0 MiB (2097152 bytes), 40% of the binary
`},
		{"under a KiB", tiny, `built hello (go, arm64)
  settings   GOOS=linux GOARCH=arm64 go build -o dist/bootstrap .
  bootstrap  dist/bootstrap     1000 B
  zip        dist/function.zip  0 B, 0% of the binary
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			writeText(&b, &c.r)
			if b.String() != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), c.want)
			}
		})
	}
}
