package verify

import "runtime"

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
	return Machine{CPU: cpuModel(), CPUs: runtime.NumCPU(), Kernel: kernelRelease(), Arch: runtime.GOARCH}
}
