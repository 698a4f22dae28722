package elfdeps

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
)

// ErrNotELF is returned by Inspect for files that are not ELF.
var ErrNotELF = errors.New("not an ELF file")

// Info is what the loader reads from an ELF file's headers.
type Info struct {
	Class   elf.Class
	Machine elf.Machine
	Type    elf.Type
	// Interp is PT_INTERP, the dynamic loader ("" for static programs
	// and libraries).
	Interp string
	// Needed are the DT_NEEDED names, in order.
	Needed []string
	// RPath and RunPath are the DT_RPATH and DT_RUNPATH lists, split
	// at ':' and not yet expanded ($ORIGIN, $LIB, $PLATFORM).
	RPath, RunPath []string
	Soname         string
}

// Inspect reads an ELF file's program interpreter and dynamic section.
// It wraps ErrNotELF when r does not hold an ELF file.
func Inspect(r io.ReaderAt) (info Info, err error) {
	// debug/elf has panicked on malformed files before; files come from
	// untrusted images.
	defer func() {
		if p := recover(); p != nil {
			info, err = Info{}, fmt.Errorf("malformed ELF file: %v", p)
		}
	}()
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return Info{}, ErrNotELF
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return Info{}, fmt.Errorf("reading ELF headers: %w", err)
	}
	defer f.Close()
	info = Info{Class: f.Class, Machine: f.Machine, Type: f.Type}
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, min(p.Filesz, 4096))
		if _, err := p.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
			return info, fmt.Errorf("reading PT_INTERP: %w", err)
		}
		info.Interp = cString(b)
	}
	if f.Section(".dynamic") == nil && f.SectionByType(elf.SHT_DYNAMIC) == nil {
		return info, nil // static, or no section headers left to find it
	}
	if info.Needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return info, fmt.Errorf("reading DT_NEEDED: %w", err)
	}
	rpath, err := f.DynString(elf.DT_RPATH)
	if err != nil {
		return info, fmt.Errorf("reading DT_RPATH: %w", err)
	}
	runpath, err := f.DynString(elf.DT_RUNPATH)
	if err != nil {
		return info, fmt.Errorf("reading DT_RUNPATH: %w", err)
	}
	info.RPath, info.RunPath = splitList(rpath), splitList(runpath)
	if so, err := f.DynString(elf.DT_SONAME); err == nil && len(so) > 0 {
		info.Soname = so[0]
	}
	return info, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// splitList splits DT_RPATH/DT_RUNPATH values at ':'.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		start := 0
		for i := 0; i <= len(v); i++ {
			if i == len(v) || v[i] == ':' {
				if i > start {
					out = append(out, v[start:i])
				}
				start = i + 1
			}
		}
	}
	return out
}
