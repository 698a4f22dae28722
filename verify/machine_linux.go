package verify

import (
	"bufio"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// kernelRelease is uname's release, "" when it cannot be read.
func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// cpuModel reads the CPU's name from /proc/cpuinfo: "model name" on x86,
// else what arm64 kernels give ("Hardware", "CPU part").
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	found := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, seen := found[k]; !seen && v != "" {
			found[k] = v
		}
	}
	for _, k := range []string{"model name", "Hardware", "CPU part"} {
		if v := found[k]; v != "" {
			if k == "CPU part" {
				return "CPU part " + v + " (implementer " + found["CPU implementer"] + ")"
			}
			return v
		}
	}
	return "unknown"
}
