package settings

import (
	"debug/elf"
	"strings"
	"testing"
)

func TestParseArch(t *testing.T) {
	tests := []struct {
		in      string
		want    Arch
		goarch  string
		machine elf.Machine
		triple  string
	}{
		{"arm64", ARM64, "arm64", elf.EM_AARCH64, "aarch64-unknown-linux-gnu"},
		{"aarch64", ARM64, "arm64", elf.EM_AARCH64, "aarch64-unknown-linux-gnu"},
		{"x86_64", X86_64, "amd64", elf.EM_X86_64, "x86_64-unknown-linux-gnu"},
		{"AMD64", X86_64, "amd64", elf.EM_X86_64, "x86_64-unknown-linux-gnu"},
	}
	for _, tt := range tests {
		a, err := ParseArch(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if a != tt.want || a.GOARCH() != tt.goarch || a.ELFMachine() != tt.machine || a.RustTarget() != tt.triple {
			t.Errorf("%s: got %s %s %s %s", tt.in, a, a.GOARCH(), a.ELFMachine(), a.RustTarget())
		}
	}
	if _, err := ParseArch("mips"); err == nil || !strings.Contains(err.Error(), `unknown architecture "mips": use one of arm64, x86_64`) {
		t.Errorf("mips: error %v", err)
	}
}

// The rendered command is what the templates' Makefiles and build's report
// show: it must carry every tuned flag, quoted for a shell.
func TestGoCommand(t *testing.T) {
	got := Go(ARM64).Command("dist/bootstrap", ".")
	want := `CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -tags lambda.norpc -ldflags "-s -w -buildid=" -o dist/bootstrap .`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := Go(ARM64).CommandWith("$(GO)", "o", "."); !strings.Contains(got, " $(GO) build -trimpath") {
		t.Errorf("CommandWith: %s", got)
	}
}

func TestRustProfileComplete(t *testing.T) {
	keys := map[string]string{}
	for _, k := range RustProfile() {
		keys[k.Key] = k.Value
		if k.Why == "" {
			t.Errorf("%s has no reason", k.Key)
		}
	}
	for _, k := range []string{"opt-level", "lto", "codegen-units", "panic", "strip"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("profile lacks %s", k)
		}
	}
	if keys["codegen-units"] != "1" || keys["panic"] != `"abort"` || keys["strip"] != "true" {
		t.Errorf("profile %v", keys)
	}
}
