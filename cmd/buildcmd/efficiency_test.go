package buildcmd

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/testenv"
)

// wastefulBase is a base image whose two layers both write etc/data, 1000
// bytes: a known duplicated file.
func wastefulBase(t *testing.T) string {
	t.Helper()
	layer := func() v1.Layer {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, h := range []*tar.Header{
			{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
			{Name: "etc/data", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1000},
		} {
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if h.Size > 0 {
				tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size)))
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		return testenv.Layer(t, b.Bytes())
	}
	img := testenv.HostImage(t, v1.Config{}, layer(), layer())
	dir := filepath.Join(t.TempDir(), "base")
	if err := image.Write(context.Background(), img, image.Ref{Kind: image.OCI, Path: dir}, image.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return "oci:" + dir
}

// An image build reports its efficiency as dive scores it, and the
// thresholds fail the command with exit status 1 (the image is written).
//
// The image is the base's two layers, then fnopt's bootstrap layer
// (--no-ca-certs: no CA layer) holding one regular file, the bootstrap of
// B bytes, besides empty folders. By hand, with dive's rules:
//
//	etc/data                 two occurrences, 1000 + 1000: min 1000, sum 2000
//	var/runtime/bootstrap    one occurrence of B
//	efficiency          = (1000 + B) / (2000 + B)
//	wasted bytes        = 2000 (both occurrences of the duplicated path)
//	user bytes          = 1000 (the base's second layer) + B
//	user wasted         = 2000 / (1000 + B)
//
// With a Go bootstrap of some megabytes, efficiency is about 0.9998 and
// user wasted about 0.0003: --min-efficiency 0.99999 and
// --max-user-wasted-percent 0.0001 fail, --max-wasted 2000 does not.
func TestImageEfficiencyThresholds(t *testing.T) {
	base := wastefulBase(t)
	dir := project(t, nil)
	arch := string(settings.HostArch())
	code, out, errOut := run(t, dir, "--arch", arch, "--package", "image", "--base", base, "--no-ca-certs", "--json",
		"--min-efficiency", "0.99999", "--max-wasted", "2000", "--max-user-wasted-percent", "0.0001")
	if code != cmdutil.ExitFail {
		t.Fatalf("exit %d, want %d (a threshold failed)\n%s\n%s", code, cmdutil.ExitFail, errOut, out)
	}
	var r Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if r.Image == nil {
		t.Fatal("no image in the report")
	}
	b := float64(r.Bootstrap.Bytes)
	e := r.Image.Efficiency
	if want := (1000 + b) / (2000 + b); math.Abs(e.Score-want) > 1e-12 {
		t.Errorf("efficiency %v, want %v", e.Score, want)
	}
	if e.WastedBytes != 2000 || e.UserBytes != 1000+r.Bootstrap.Bytes {
		t.Errorf("wasted %d, user bytes %d; want 2000, %d", e.WastedBytes, e.UserBytes, 1000+r.Bootstrap.Bytes)
	}
	if want := 2000 / (1000 + b); math.Abs(e.UserWastedPercent-want) > 1e-12 {
		t.Errorf("user wasted %v, want %v", e.UserWastedPercent, want)
	}
	// 2000 wasted bytes is not more than 2000: that threshold passes.
	var rules []string
	for _, f := range r.Image.Failed {
		rules = append(rules, f.Rule)
	}
	if got := strings.Join(rules, ","); got != "lowestEfficiency,highestUserWastedPercent" {
		t.Errorf("failed thresholds %q, want lowestEfficiency,highestUserWastedPercent", got)
	}

	// Thresholds the image meets: exit 0, and the text report says the
	// score.
	code, out, errOut = run(t, dir, "--arch", arch, "--package", "image", "--base", base, "--no-ca-certs",
		"--min-efficiency", "0.5", "--max-wasted", "2KB", "--max-user-wasted-percent", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "efficiency ") || !strings.Contains(out, "as dive scores it; 2.0 KiB wasted") || strings.Contains(out, "FAIL") {
		t.Errorf("text report:\n%s", out)
	}
}
