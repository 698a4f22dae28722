package verify

import "golang.org/x/sys/unix"

// cpuModel is the CPU's name as macOS gives it ("Apple M2").
func cpuModel() string {
	name, err := unix.Sysctl("machdep.cpu.brand_string")
	if err != nil || name == "" {
		return "unknown"
	}
	return name
}

// kernelRelease is uname's system and release ("Darwin 23.4.0"): the
// release alone would read as a Linux version.
func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
}
