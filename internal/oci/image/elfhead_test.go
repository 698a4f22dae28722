package image

import (
	"debug/elf"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
)

func TestParseELFHead(t *testing.T) {
	ls := mustRead(t, "/bin/ls")
	arm := mustRead(t, bootstrap(t, settings.ARM64))
	for _, tc := range []struct {
		name          string
		head          []byte
		machine       elf.Machine
		interp        string
		interpUnknown bool
		notELF        bool
	}{
		{name: "dynamic x86_64", head: ls[:headBytes], machine: elf.EM_X86_64, interp: "/lib64/ld-linux-x86-64.so.2"},
		{name: "static arm64 Go", head: arm[:headBytes], machine: elf.EM_AARCH64},
		{name: "header only", head: ls[:64], machine: elf.EM_X86_64, interpUnknown: true},
		{name: "too short", head: ls[:10], notELF: true},
		{name: "script", head: []byte("#!/bin/sh\necho hello world\n"), notELF: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parseELFHead(tc.head)
			if tc.notELF {
				if err == nil {
					t.Fatalf("got %+v, want an error", h)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.machine != tc.machine || h.interp != tc.interp || h.interpUnknown != tc.interpUnknown {
				t.Fatalf("got %+v", h)
			}
		})
	}
}
