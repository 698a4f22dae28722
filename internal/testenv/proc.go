package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Process is one process as Linux's /proc shows it, for tests that check
// what a run left behind.
type Process struct {
	PID, PPID int
	// State is stat's state letter: 'Z' for a zombie (ended, not reaped).
	State byte
	// Cmdline is the arguments joined by spaces; Cwd the working folder
	// ("" when it cannot be read).
	Cmdline, Cwd string
}

// String is the pid and command line, as a failure message shows them.
func (p Process) String() string {
	return strconv.Itoa(p.PID) + " " + p.Cmdline
}

// Processes lists the machine's processes, zombies included. Processes
// that end while it reads are left out. It fails the test where there is
// no /proc.
func Processes(t testing.TB) []Process {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and
		// parentheses, so fields are counted after its last ')'.
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if i < 0 || len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		cwd, _ := os.Readlink(filepath.Join(dir, "cwd"))
		out = append(out, Process{
			PID:     pid,
			PPID:    ppid,
			State:   f[0][0],
			Cmdline: strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")),
			Cwd:     cwd,
		})
	}
	return out
}
