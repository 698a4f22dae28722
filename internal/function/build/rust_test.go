package build

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
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
		rb := Rust(c.arch, c.linker, c.static, UserProfile{})
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

// A key the project's own [profile.release] sets is not passed with
// --config (which would win over Cargo.toml and .cargo/config.toml): it is
// kept and named. The workspace root's profile is the one Cargo applies to
// a member; configuration files override it.
func TestUserProfileKept(t *testing.T) {
	cases := []struct {
		name     string
		files    map[string]string
		dir      string // the package's folder under the temporary one
		wantKept []string
	}{
		{"no profile", map[string]string{"Cargo.toml": "[package]\nname = \"a\"\n"}, ".", nil},
		{"two keys set", map[string]string{"Cargo.toml": "[package]\nname = \"a\"\n\n[profile.release]\nopt-level = 2\nlto = false\ndebug = true\n"}, ".",
			[]string{"lto = false", "opt-level = 2"}},
		{"string values quoted as TOML", map[string]string{"Cargo.toml": "[profile.release]\nopt-level = 'z'\npanic = \"unwind\"\n"}, ".",
			[]string{`opt-level = "z"`, `panic = "unwind"`}},
		{"the workspace root's profile, not the member's", map[string]string{
			"Cargo.toml":     "[workspace]\nmembers = [\"fn\"]\n\n[profile.release]\nstrip = false\n",
			"fn/Cargo.toml":  "[package]\nname = \"fn\"\n\n[profile.release]\nopt-level = 1\n",
			"fn/src/main.rs": "fn main() {}\n",
		}, "fn", []string{"strip = false"}},
		{"no Cargo.toml at all", map[string]string{}, ".", nil},
		// Cargo's configuration files win over the manifest, the nearest
		// over those further up.
		{".cargo/config.toml over Cargo.toml", map[string]string{
			"Cargo.toml":         "[package]\nname = \"a\"\n\n[profile.release]\nopt-level = 2\n",
			".cargo/config.toml": "[profile.release]\nopt-level = 3\nstrip = false\n",
		}, ".", []string{"opt-level = 3", "strip = false"}},
		{"the nearest configuration file wins", map[string]string{
			".cargo/config.toml":    "[profile.release]\nlto = false\ncodegen-units = 4\n",
			"fn/Cargo.toml":         "[package]\nname = \"fn\"\n",
			"fn/.cargo/config.toml": "[profile.release]\nlto = \"thin\"\n",
		}, "fn", []string{"codegen-units = 4", `lto = "thin"`}},
		{"the older .cargo/config", map[string]string{
			"Cargo.toml":    "[package]\nname = \"a\"\n",
			".cargo/config": "[profile.release]\npanic = \"unwind\"\n",
		}, ".", []string{`panic = "unwind"`}},
		// fnopt new's profile: every key set to the tuned value, none
		// passed, nothing to say.
		{"the tuned values themselves", map[string]string{"Cargo.toml": "[profile.release]\nopt-level = \"s\"\nlto = true\ncodegen-units = 1\npanic = 'abort'\nstrip = true\n"}, ".", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			testenv.WriteFiles(t, root, c.files)
			up, err := ReadUserProfile(filepath.Join(root, c.dir))
			if err != nil {
				t.Fatal(err)
			}
			rb := Rust(settings.X86_64, "", false, up)
			if !reflect.DeepEqual(rb.Kept, c.wantKept) {
				t.Errorf("kept %q, want %q", rb.Kept, c.wantKept)
			}
			args := strings.Join(rb.Args, " ")
			for _, k := range settings.RustProfile() {
				_, set := up.Values[k.Key]
				if passed := strings.Contains(args, "profile.release."+k.Key+"="); passed == set {
					t.Errorf("%s: passed %v, set by the project %v: %s", k.Key, passed, set, args)
				}
			}
		})
	}
	t.Run("broken .cargo/config.toml", func(t *testing.T) {
		dir := t.TempDir()
		testenv.WriteFiles(t, dir, map[string]string{"Cargo.toml": "[package]\nname = \"a\"\n", ".cargo/config.toml": "[profile.release\n"})
		if _, err := ReadUserProfile(dir); err == nil || !strings.Contains(err.Error(), "config.toml is not valid TOML") {
			t.Errorf("err = %v, want one saying .cargo/config.toml is not valid TOML", err)
		}
	})
	t.Run("broken Cargo.toml", func(t *testing.T) {
		dir := t.TempDir()
		testenv.WriteFiles(t, dir, map[string]string{"Cargo.toml": "[profile.release\n"})
		if _, err := ReadUserProfile(dir); err == nil || !strings.Contains(err.Error(), "is not valid TOML") {
			t.Errorf("err = %v, want one saying the manifest is not valid TOML", err)
		}
	})
}
