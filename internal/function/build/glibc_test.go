package build

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"2.34", "2.34", 0},
		{"2.35", "2.34", 1},
		{"2.4", "2.34", -1},
		{"2.34.1", "2.34", 1},
		{"3", "2.99", 1},
	}
	for _, c := range cases {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// A dynamically linked system program needs some GLIBC_2.x; the versions
// are read from its .gnu.version_r section.
func TestGlibcNeeded(t *testing.T) {
	p, err := exec.LookPath("ls")
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := glibcNeeded(f)
	if err != nil || v == "" || !isVersion(v) || compareVersions(v, "2.2") < 0 {
		t.Fatalf("glibcNeeded(%s) = %q, %v; want a version like 2.34", p, v, err)
	}
}

// A program using arc4random (new in glibc 2.36, Debian 12's) runs here
// but not on Lambda: the build's binary check refuses it.
func TestCheckELFRefusesNewerGlibc(t *testing.T) {
	testenv.LookPath(t, "gcc", "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "main.c")
	if err := os.WriteFile(src, []byte("#include <stdlib.h>\n#include <stdio.h>\nint main(void) { printf(\"%u\\n\", arc4random()); return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bootstrap")
	if out, err := exec.Command("gcc", "-o", bin, src).CombinedOutput(); err != nil {
		t.Skipf("this glibc has no arc4random (older than 2.36): %v\n%s", err, out)
	}
	err := checkELF(bin, settings.HostArch())
	if err == nil || !strings.Contains(err.Error(), "needs glibc 2.36 but Lambda's provided.al2023 has 2.34") {
		t.Fatalf("checkELF = %v, want the glibc refusal", err)
	}
}
