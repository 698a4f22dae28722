package verify

import (
	"bufio"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// Machine describes where a measurement ran: local figures only compare
// with figures from the same kind of machine.
type Machine struct {
	CPU    string `json:"cpu"`
	CPUs   int    `json:"cpus"`
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
}

// ThisMachine describes the machine fnopt runs on.
func ThisMachine() Machine {
	m := Machine{CPU: cpuModel(), CPUs: runtime.NumCPU(), Arch: runtime.GOARCH}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	return m
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
