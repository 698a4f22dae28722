package verify

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// crossTarget builds fakefn for arm64 as DIR/<mode>/bootstrap and returns
// a target whose deployed build it is (the host build is not needed).
func crossTarget(t *testing.T, mode string) *Target {
	t.Helper()
	dir := filepath.Join(t.TempDir(), mode)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	boot := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-o", boot, "./testdata/fakefn")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOARCH=arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building fakefn for arm64: %v\n%s", err, out)
	}
	return &Target{Name: mode, CrossBootstrap: boot, CrossArch: settings.ARM64}
}

func TestCrossCheck(t *testing.T) {
	if settings.HostArch() == settings.ARM64 {
		t.Skip("the deployed build is native here; qemu runs arm64 only")
	}
	if QemuPath(settings.ARM64) == "" {
		t.Skip("qemu-aarch64-static not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tests := []struct {
		mode        string
		wantOK      bool
		wantFailure bool // the function failed (*Failure), rather than the run
	}{
		{mode: "echo", wantOK: true},
		{mode: "crash", wantFailure: true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			cr := CrossCheck(ctx, crossTarget(t, tt.mode), Options{Timeout: time.Second})
			if cr == nil || !cr.Ran() || cr.Arch != settings.ARM64 {
				t.Fatalf("CrossCheck = %+v, want a run of the arm64 build", cr)
			}
			if cr.OK() != tt.wantOK {
				t.Errorf("OK = %v, want %v (err %v)", cr.OK(), tt.wantOK, cr.Err)
			}
			var f *Failure
			if errors.As(cr.Err, &f) != tt.wantFailure {
				t.Errorf("err %v: a *Failure is %v, want %v", cr.Err, !tt.wantFailure, tt.wantFailure)
			}
		})
	}
}

func TestCrossCheckWithoutQemu(t *testing.T) {
	tg := &Target{Name: "fn", CrossBootstrap: "/nonexistent/bootstrap", CrossArch: settings.ARM64}
	t.Setenv("PATH", t.TempDir()) // no qemu-aarch64-static on it
	cr := CrossCheck(context.Background(), tg, Options{})
	if cr == nil || cr.Ran() || cr.OK() || cr.Err != nil || cr.Arch != settings.ARM64 {
		t.Errorf("CrossCheck without qemu = %+v, want a check that did not run", cr)
	}
}

func TestCrossCheckNothingToCheck(t *testing.T) {
	if cr := CrossCheck(context.Background(), &Target{Name: "fn"}, Options{}); cr != nil {
		t.Errorf("CrossCheck of a target without a cross build = %+v, want nil", cr)
	}
}
