package verify

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

// TestPrepareNativeProject runs, on Linux, the path verify takes for a
// project on macOS and Windows: the deployed Linux build gives the sizes,
// and a build for this system (build.BuildNative) is measured.
func TestPrepareNativeProject(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":     "module example.com/fn\n\ngo 1.22\n",
		"main.go":    testenv.EchoFunction(),
		"fnopt.yaml": "name: fn\nlanguage: go\narch: arm64\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tg, err := prepareNativeProject(ctx, dir, cfg, PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if len(tg.Notes) != 1 || !strings.Contains(tg.Notes[0], "measured a linux build") {
		t.Errorf("notes %q", tg.Notes)
	}
	if tg.Arch != settings.HostArch() || tg.CrossBootstrap != "" {
		t.Errorf("arch %s, cross bootstrap %q", tg.Arch, tg.CrossBootstrap)
	}
	// The sizes are the deployed artifact's only, not the native build's.
	for _, a := range tg.Artifacts {
		if a.Arch != settings.ARM64 || a.Bytes <= 0 {
			t.Errorf("artifact %+v, want arm64 sizes only", a)
		}
	}
	if len(tg.Artifacts) != 2 {
		t.Errorf("artifacts %+v, want the arm64 bootstrap and zip", tg.Artifacts)
	}
	o := Options{Samples: 1, Expect: mustExpect(t, DefaultEvent)}
	if runs := measure(t, o, tg); !runs[0].OK() {
		t.Fatal(runs[0].Failure)
	}
}

// TestNativeRefusals: what only Linux can run is refused elsewhere in one
// line; on Linux nothing changes.
func TestNativeRefusals(t *testing.T) {
	if err := checkRunsHere("dist/bootstrap", settings.ARM64); err != nil {
		t.Errorf("Linux refused a Linux executable: %v", err)
	}
	if nativeNotes() != nil {
		t.Errorf("notes on Linux: %q", nativeNotes())
	}
}
