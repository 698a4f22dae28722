package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseBinaries checks a GoReleaser snapshot build: the six
// binaries of .goreleaser.yaml are there, each an executable of its own
// system and architecture, this machine's prints the release's version,
// and checksums.txt holds every archive's true checksum. Building
// GoReleaser takes minutes, so the test runs only when
// scripts/release-check.sh points it at the build it just made.
func TestReleaseBinaries(t *testing.T) {
	dist := os.Getenv("FNOPT_RELEASE_DIST")
	if dist == "" {
		t.Skip("FNOPT_RELEASE_DIST is not set: scripts/release-check.sh (make release-snapshot) builds the release and runs this test")
	}
	var meta struct {
		Version string `json:"version"`
	}
	readJSON(t, filepath.Join(dist, "metadata.json"), &meta)
	var artifacts []struct {
		Name, Path, Goos, Goarch, Type string
	}
	readJSON(t, filepath.Join(dist, "artifacts.json"), &artifacts)
	// Artifact paths are relative to the folder GoReleaser ran in, the
	// one dist-release/ is in.
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(filepath.Dir(dist), p)
	}

	want := map[string]bool{}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, goarch := range []string{"amd64", "arm64"} {
			want[goos+"/"+goarch] = true
		}
	}
	archives := map[string]string{} // name -> path
	for _, a := range artifacts {
		switch a.Type {
		case "Archive":
			archives[a.Name] = abs(a.Path)
		case "Binary":
			platform := a.Goos + "/" + a.Goarch
			if !want[platform] {
				t.Errorf("unexpected binary %s for %s", a.Path, platform)
				continue
			}
			delete(want, platform)
			t.Run(platform, func(t *testing.T) {
				bin := abs(a.Path)
				if err := executableFor(bin, a.Goos, a.Goarch); err != nil {
					t.Fatalf("%s is not an executable of %s: %v", bin, platform, err)
				}
				// Every binary holds the release's version (set by the
				// linker); those this machine can run print it.
				data, err := os.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(data, []byte("v"+meta.Version)) {
					t.Errorf("%s does not hold the version v%s", bin, meta.Version)
				}
				cmd := exec.Command(bin, "--version")
				switch qemu, _ := exec.LookPath("qemu-aarch64-static"); {
				case a.Goos == runtime.GOOS && a.Goarch == runtime.GOARCH:
				case a.Goos == "linux" && a.Goarch == "arm64" && qemu != "":
					cmd = exec.Command(qemu, bin, "--version")
				default:
					return // macOS and Windows binaries cannot run here
				}
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%s --version: %v\n%s", bin, err, out)
				}
				// "fnopt version v0.0.1-snapshot+abc1234, built with go1.26.8"
				prefix := "fnopt version v" + meta.Version
				if got := string(out); !strings.HasPrefix(got, prefix+" ") && !strings.HasPrefix(got, prefix+",") && got != prefix+"\n" {
					t.Errorf("%s --version printed %q, want the release's version %q", bin, got, "v"+meta.Version)
				}
			})
		}
	}
	for platform := range want {
		t.Errorf("no binary for %s", platform)
	}
	if len(archives) != 6 {
		t.Errorf("%d archives, want 6: %v", len(archives), archives)
	}

	sums := map[string]string{} // archive name -> sha256 listed
	f, err := os.Open(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sum, name, ok := strings.Cut(sc.Text(), "  "); ok {
			sums[name] = sum
		}
	}
	for name, path := range archives {
		if got := sha256File(t, path); sums[name] != got {
			t.Errorf("checksums.txt lists %q for %s, its sha256 is %s", sums[name], name, got)
		}
	}
}

// executableFor says whether path is an executable of goos/goarch: the
// object format of the system and the machine of the architecture.
func executableFor(path, goos, goarch string) error {
	machine := func(got, want fmt.Stringer) error {
		if got.String() != want.String() {
			return fmt.Errorf("built for %v, not %v", got, want)
		}
		return nil
	}
	switch goos {
	case "linux":
		f, err := elf.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
			return fmt.Errorf("ELF type %v is not an executable", f.Type)
		}
		return machine(f.Machine, want)
	case "darwin":
		f, err := macho.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if f.Type != macho.TypeExec {
			return fmt.Errorf("Mach-O type %v is not an executable", f.Type)
		}
		return machine(f.Cpu, want)
	case "windows":
		f, err := pe.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		want := map[string]uint16{"amd64": pe.IMAGE_FILE_MACHINE_AMD64, "arm64": pe.IMAGE_FILE_MACHINE_ARM64}[goarch]
		if f.Machine != want {
			return fmt.Errorf("built for PE machine %#x, not %#x", f.Machine, want)
		}
		if f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
			return fmt.Errorf("PE file is not an executable image")
		}
		return nil
	}
	return fmt.Errorf("no check for %s", goos)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
