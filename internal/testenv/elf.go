package testenv

import "debug/elf"

// HasInterp says whether f asks for a program interpreter (PT_INTERP):
// whether it is linked dynamically and needs a loader to start.
func HasInterp(f *elf.File) bool {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return true
		}
	}
	return false
}
