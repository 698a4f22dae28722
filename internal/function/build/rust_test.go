package build

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
)

func TestRustInvocation(t *testing.T) {
	cases := []struct {
		arch    settings.Arch
		linker  string
		static  bool
		wantEnv string // "" = no linker variable
	}{
		{settings.ARM64, "aarch64-linux-gnu-gcc", false, "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc"},
		{settings.X86_64, "", false, ""},
		{settings.X86_64, "", true, ""},
		{settings.X86_64, "x86_64-linux-gnu-gcc", false, "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=x86_64-linux-gnu-gcc"},
	}
	for _, c := range cases {
		rb := Rust(c.arch, c.linker, c.static)
		// A static build (an image with no base) links the C runtime
		// statically; otherwise RUSTFLAGS is left to the project.
		var rustflags string
		for _, e := range rb.Env {
			if v, ok := strings.CutPrefix(e, "RUSTFLAGS="); ok {
				rustflags = v
			}
		}
		if want := strings.Join(settings.RustStaticRustflags(), " "); c.static && rustflags != want {
			t.Errorf("static build: RUSTFLAGS %q, want %q", rustflags, want)
		} else if !c.static && len(settings.RustRustflags()) == 0 && rustflags != "" {
			t.Errorf("dynamic build sets RUSTFLAGS %q", rustflags)
		}
		if rb.Target != c.arch.RustTarget() {
			t.Errorf("%s: target %s", c.arch, rb.Target)
		}
		var linkerEnv string
		for _, e := range rb.Env {
			if strings.Contains(e, "_LINKER=") {
				linkerEnv = e
			}
		}
		if linkerEnv != c.wantEnv {
			t.Errorf("%s %q: linker env %q, want %q", c.arch, c.linker, linkerEnv, c.wantEnv)
		}
		args := strings.Join(rb.Args, " ")
		if !strings.HasPrefix(args, "build --release --target "+c.arch.RustTarget()) {
			t.Errorf("args %q", args)
		}
		// Every tuned profile key is passed, so a project without the
		// profile in Cargo.toml is built tuned too.
		for _, k := range settings.RustProfile() {
			if !strings.Contains(args, "--config profile.release."+k.Key+"="+k.Value) {
				t.Errorf("args %q lack the profile key %s", args, k.Key)
			}
		}
	}
}

// A linker the user names for the target is checked (and used) instead
// of fnopt's default, and a missing one is reported with what to install.
func TestCheckRustToolchainLinker(t *testing.T) {
	host := settings.HostArch()
	env := []string{linkerVar(host.RustTarget()) + "=no-such-linker-gcc"}
	_, err := CheckRustToolchain(context.Background(), t.TempDir(), host, env)
	var terr *ToolchainError
	if !errors.As(err, &terr) {
		t.Fatalf("err = %v, want a ToolchainError", err)
	}
	if !strings.Contains(err.Error(), "the linker no-such-linker-gcc is not installed") {
		t.Errorf("error %q does not name the missing linker", err)
	}
	// The host's own toolchain needs no extra linker.
	linker, err := CheckRustToolchain(context.Background(), t.TempDir(), host, nil)
	if err != nil || linker != "" {
		t.Errorf("host toolchain: linker %q, err %v", linker, err)
	}
}

func TestLinkerPackage(t *testing.T) {
	for linker, pkg := range map[string]string{
		"aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
		"x86_64-linux-gnu-gcc":  "gcc-x86-64-linux-gnu",
	} {
		if got := linkerPackage(linker); got != pkg {
			t.Errorf("linkerPackage(%s) = %s, want %s", linker, got, pkg)
		}
	}
}
