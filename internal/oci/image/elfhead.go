package image

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
)

// elfHead is what the start of an ELF file says about how it runs.
type elfHead struct {
	machine elf.Machine
	typ     elf.Type
	// interp is the PT_INTERP program interpreter (the dynamic loader)
	// of a dynamically linked executable; empty for static ones.
	interp string
	// interpUnknown is set when the program headers lie beyond the bytes
	// read, so whether there is an interpreter is not known.
	interpUnknown bool
}

var errNotELF = errors.New("not an ELF file")

// parseELFHead reads the ELF header and program headers from the first
// bytes of a file; debug/elf needs the whole file (section headers sit at
// its end), this needs only File.Head.
func parseELFHead(b []byte) (elfHead, error) {
	if len(b) < 20 || string(b[:4]) != elf.ELFMAG {
		return elfHead{}, errNotELF
	}
	var bo binary.ByteOrder
	switch elf.Data(b[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		bo = binary.BigEndian
	default:
		return elfHead{}, errNotELF
	}
	h := elfHead{typ: elf.Type(bo.Uint16(b[16:])), machine: elf.Machine(bo.Uint16(b[18:]))}
	var phoff, phentsize, phnum uint64
	class := elf.Class(b[elf.EI_CLASS])
	switch class {
	case elf.ELFCLASS64:
		if len(b) < 64 {
			h.interpUnknown = true
			return h, nil
		}
		phoff, phentsize, phnum = bo.Uint64(b[32:]), uint64(bo.Uint16(b[54:])), uint64(bo.Uint16(b[56:]))
	case elf.ELFCLASS32:
		if len(b) < 52 {
			h.interpUnknown = true
			return h, nil
		}
		phoff, phentsize, phnum = uint64(bo.Uint32(b[28:])), uint64(bo.Uint16(b[42:])), uint64(bo.Uint16(b[44:]))
	default:
		return elfHead{}, errNotELF
	}
	for i := uint64(0); i < phnum; i++ {
		off := phoff + i*phentsize
		if off+phentsize > uint64(len(b)) || phentsize < 32 {
			h.interpUnknown = true
			return h, nil
		}
		ph := b[off : off+phentsize]
		if elf.ProgType(bo.Uint32(ph)) != elf.PT_INTERP {
			continue
		}
		var poff, psz uint64
		if class == elf.ELFCLASS64 {
			poff, psz = bo.Uint64(ph[8:]), bo.Uint64(ph[32:])
		} else {
			poff, psz = uint64(bo.Uint32(ph[4:])), uint64(bo.Uint32(ph[16:]))
		}
		if poff+psz > uint64(len(b)) || psz == 0 {
			h.interpUnknown = true
			return h, nil
		}
		h.interp = string(bytes.TrimRight(b[poff:poff+psz], "\x00"))
		return h, nil
	}
	return h, nil
}
