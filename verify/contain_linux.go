package verify

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A host bootstrap is started as PID 1 of a PID namespace of its own, so
// that nothing it starts can outlive it: when a namespace's first process
// dies the kernel kills every other process in it, and the bootstrap is
// reaped only once they are all gone. A child that calls setsid or forks
// twice leaves the process group, and without a cgroup nothing else would
// find it; in the namespace it cannot leave. docs/verify.md has what this
// costs a sample (nothing measurable) and what a function sees (its
// getpid() is 1).

// stopGrace is how long the processes a function started get to end after
// SIGTERM before the namespace is killed. Only samples whose function left
// processes running wait at all, and only as long as those take to exit.
const stopGrace = 200 * time.Millisecond

// setContain makes the child the first process of a new PID namespace.
// Not root, a user namespace must own it; it maps only the user fnopt runs
// as, to itself, so the function keeps its uid and gains no capability
// (exec as a uid other than 0 clears them).
func setContain(attr *syscall.SysProcAttr) {
	attr.Cloneflags |= unix.CLONE_NEWPID
	if uid := os.Geteuid(); uid != 0 {
		gid := os.Getegid()
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
}

// namespaceRefused reports whether a failed start is the machine refusing
// namespaces (not root without unprivileged user namespaces, a container
// runtime's policy): clone says EPERM, EINVAL, ENOSPC, EUSERS or EACCES.
func namespaceRefused(err error) bool {
	for _, e := range []error{unix.EPERM, unix.EINVAL, unix.ENOSPC, unix.EUSERS, unix.EACCES} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// containRefused says why bootstraps of h start without a PID namespace,
// or "" when they start in one.
func (h *HostStarter) containRefused() string {
	if h.uncontained {
		return "containment switched off"
	}
	if r := h.refused.Load(); r != nil {
		return *r
	}
	return ""
}

// refuseContain remembers that this machine refuses the namespace, so that
// later samples do not try again.
func (h *HostStarter) refuseContain(err error) {
	r := fmt.Sprintf("this machine refuses a PID namespace to fnopt (%v); run fnopt as root, or allow unprivileged user namespaces", err)
	h.refused.Store(&r)
}

// uncontainedNote is the note of a sample whose processes are contained by
// their process group only.
func uncontainedNote(reason string) string {
	return "a process the function starts in a session of its own (setsid) may outlive the sample: " + reason
}

// stopGently asks every process of pid's namespace but pid itself to stop
// (SIGTERM) and waits up to grace for them to exit, so that they can clean
// up before the namespace is killed. The namespace's processes are found
// in /proc by their PID namespace.
func stopGently(pid int, grace time.Duration) {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return
	}
	members := namespaceMembers(ns, pid)
	if len(members) == 0 {
		return
	}
	for _, m := range members {
		_ = unix.Kill(m, unix.SIGTERM)
	}
	deadline := time.Now().Add(grace)
	for _, m := range members {
		for running(m) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
}

// namespaceMembers lists the processes in PID namespace ns (a
// /proc/PID/ns/pid link's text), except but.
func namespaceMembers(ns string, but int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == but {
			continue
		}
		if link, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && link == ns {
			out = append(out, pid)
		}
	}
	return out
}

// running reports whether pid is alive and not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: comm may hold anything, so read after ')'.
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			return i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
		}
	}
	return false
}
