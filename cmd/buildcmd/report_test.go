package buildcmd

import (
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/oci/rootfs"
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
	withImage.Image = &ImageReport{Destination: "oci:dist/image", Digest: "sha256:ab", Platform: "linux/arm64", CompressedBytes: 900, UncompressedBytes: 3 << 30,
		Efficiency: rootfs.Efficiency{Score: 0.6, WastedBytes: 2000, UserWastedPercent: 0.25},
		Failed: []rootfs.LimitFailure{
			{Rule: "lowestEfficiency", Limit: 0.9, Value: 0.6},
			{Rule: "highestWastedBytes", Limit: 1024, Value: 2000},
			{Rule: "highestUserWastedPercent", Limit: 0.1, Value: 0.25},
		}}
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
  efficiency 60.00% as dive scores it; 2.0 KiB wasted, 25.00% of the bytes above the first layer
  FAIL       lowestEfficiency: efficiency 0.6000 is below 0.9000 (--min-efficiency)
  FAIL       highestWastedBytes: 2.0 KiB (2000 bytes) wasted is more than 1.0 KiB (1024 bytes) (--max-wasted)
  FAIL       highestUserWastedPercent: 0.2500 of the bytes above the first layer wasted is more than 0.1000 (--max-user-wasted-percent)
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
