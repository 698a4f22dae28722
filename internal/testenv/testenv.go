// Package testenv gives tests what they need from the machine: an offline
// Cargo set up against Debian's packaged crate sources, and checks that
// skip or fail with a message saying what to install.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// DebianCrates is where Debian's librust-*-dev packages put crate sources.
const DebianCrates = "/usr/share/cargo/registry"

// CargoEnv returns environment entries that make cargo build offline
// against Debian's packaged crates, with a CARGO_HOME and target folder of
// the test's own. Generated projects keep plain crates.io dependencies;
// only the test's cargo configuration replaces the source.
func CargoEnv(t testing.TB) []string {
	t.Helper()
	if _, err := exec.LookPath("cargo"); err != nil {
		t.Fatalf("cargo not found: install Rust with rustup (make setup does not install toolchains)")
	}
	if _, err := os.Stat(DebianCrates); err != nil {
		t.Fatalf("%s missing: run `make setup` (installs librust-serde-json-dev and friends)", DebianCrates)
	}
	home := t.TempDir()
	cfg := "[source.crates-io]\nreplace-with = \"debian\"\n\n[source.debian]\ndirectory = \"" + DebianCrates + "\"\n\n[net]\noffline = true\n"
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"CARGO_HOME=" + home}
	// rustup's proxies find their toolchains through RUSTUP_HOME, which
	// defaults to a path under the real home; keep it explicit.
	if os.Getenv("RUSTUP_HOME") == "" {
		if h, err := os.UserHomeDir(); err == nil {
			env = append(env, "RUSTUP_HOME="+filepath.Join(h, ".rustup"))
		}
	}
	return env
}

// Command returns exec.Command(name, args...) run in dir with the process
// environment plus extra.
func Command(dir string, extra []string, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), extra...)
	return c
}

// RequireRoot skips the test unless it runs as root (namespaces, chroot).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for namespaces and chroot")
	}
}

// LookPath fails the test when a required program is missing, naming the
// Debian package that brings it (make setup installs them all).
func LookPath(t testing.TB, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		t.Fatalf("%s not found: run `make setup` (Debian package %s)", prog, pkg)
	}
	return p
}

// Entries lists the names in a folder, sorted; none when it is absent.
func Entries(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
