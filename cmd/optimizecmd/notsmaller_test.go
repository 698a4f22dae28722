package optimizecmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/schematest"
	"github.com/fnopt/fnopt/internal/testenv"
)

// TestOptimizeImageAlreadyMinimal: `optimize image` of an image that is
// already as small as minimising makes it (one it minimised) says so and
// exits 0 with nothing written, in text and JSON.
func TestOptimizeImageAlreadyMinimal(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "strace", "strace")
	src, _ := dynamicImage(t)
	minimal := "oci:" + filepath.Join(t.TempDir(), "minimal")
	if out, _, err := runImage(t, src, "--to", minimal, "--samples", "1"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	dst := filepath.Join(t.TempDir(), "again")
	out, _, err := runImage(t, minimal, "--to", "oci:"+dst, "--samples", "1")
	if exitCode(err) != 0 {
		t.Fatalf("exit %d (%v), want 0:\n%s", exitCode(err), err, out)
	}
	want := "The minimised image would not be smaller than " + minimal + ": it is as small as minimising makes it. Nothing written to oci:" + dst + ".\n"
	if !strings.HasSuffix(out, want) || strings.Contains(out, "cold start p50") {
		t.Errorf("output:\n%s\nwant it to end with:\n%s", out, want)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("%s written: %v", dst, err)
	}

	out, _, err = runImage(t, minimal, "--to", "oci:"+dst, "--samples", "1", "--json")
	if exitCode(err) != 0 {
		t.Fatalf("--json: exit %d (%v), want 0:\n%s", exitCode(err), err, out)
	}
	schematest.Load(t, "optimize.image.v1.schema.json").Validate(t, []byte(out))
	var doc ImageDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !doc.NotSmaller || doc.Written || doc.Failure != "" || doc.Minimised.Compressed < doc.Original.Compressed && doc.Minimised.Uncompressed <= doc.Original.Uncompressed {
		t.Errorf("document %+v: want not smaller, nothing written, no failure", doc)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("%s written: %v", dst, err)
	}
}
