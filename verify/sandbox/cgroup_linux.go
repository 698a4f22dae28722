package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// memCgroup is a cgroup v2 child of our own cgroup with memory.max set;
// the sandbox's init is cloned straight into it (clone3 CLONE_INTO_CGROUP),
// so nothing runs unlimited even for a moment.
type memCgroup struct {
	dir string
	fd  int
}

func (c *memCgroup) closeFD() { unix.Close(c.fd) }

// oomKilled reports whether the kernel killed a process of cgroup dir for
// going over memory.max.
func oomKilled(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "memory.events"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if n, ok := strings.CutPrefix(line, "oom_kill "); ok {
			return n != "0"
		}
	}
	return false
}

// newMemoryCgroup creates the cgroup, or says in one sentence why the
// limit cannot be enforced here (cgroup v1 machines, a memory controller
// not delegated to us). It tries below our own cgroup first (a delegated
// subtree), then below the hierarchy's root (a root shell or CI job sits in
// a leaf cgroup, where no child may use a controller its parent runs
// processes in).
func newMemoryCgroup(limit int64) (*memCgroup, error) {
	mnt, err := cgroup2Mount()
	if err != nil {
		return nil, err
	}
	own, err := ownCgroup()
	if err != nil {
		return nil, err
	}
	parents := []string{filepath.Join(mnt, own)}
	if parents[0] != filepath.Clean(mnt) {
		parents = append(parents, mnt)
	}
	var reasons []string
	for _, parent := range parents {
		cg, err := memoryCgroupIn(parent, limit)
		if err == nil {
			return cg, nil
		}
		reasons = append(reasons, err.Error())
	}
	return nil, errors.New(strings.Join(reasons, "; "))
}

func memoryCgroupIn(parent string, limit int64) (*memCgroup, error) {
	ctrl, err := os.ReadFile(filepath.Join(parent, "cgroup.controllers"))
	if err != nil || !slices.Contains(strings.Fields(string(ctrl)), "memory") {
		return nil, fmt.Errorf("the cgroup v2 memory controller is not available in %s (cgroup v1 machine or not delegated)", parent)
	}
	sub, _ := os.ReadFile(filepath.Join(parent, "cgroup.subtree_control"))
	if !slices.Contains(strings.Fields(string(sub)), "memory") {
		if err := os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+memory"), 0); err != nil {
			return nil, fmt.Errorf("cannot enable the memory controller below %s: %v", parent, err)
		}
	}
	dir, err := os.MkdirTemp(parent, "fnopt-sandbox-")
	if err != nil {
		return nil, fmt.Errorf("cannot create a cgroup in %s: %v", parent, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.Remove(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, "memory.max"), []byte(strconv.FormatInt(limit, 10)), 0); err != nil {
		return nil, fmt.Errorf("writing memory.max: %v", err)
	}
	// Lambda has no swap: a function over its memory is killed, not slowed.
	_ = os.WriteFile(filepath.Join(dir, "memory.swap.max"), []byte("0"), 0)
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %v", dir, err)
	}
	ok = true
	return &memCgroup{dir: dir, fd: fd}, nil
}

// cgroup2Mount finds where the unified (v2) hierarchy is mounted.
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("cannot read the mount table: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPEROPTS
		fields := strings.Fields(sc.Text())
		i := slices.Index(fields, "-")
		if i > 4 && i+1 < len(fields) && fields[i+1] == "cgroup2" {
			return fields[4], nil
		}
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted")
}

// ownCgroup returns our cgroup v2 path ("0::/path" in /proc/self/cgroup).
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("cannot read our cgroup: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p, nil
		}
	}
	return "", errors.New("this process has no cgroup v2 membership")
}
