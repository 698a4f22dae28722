package verify

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Cgroups makes a cgroup v2 per sample, so that the function's memory is
// limited as on Lambda (memory.max, no swap) and everything it started can
// be killed (cgroup.kill), even children that left its process group.
type Cgroups struct {
	root   string
	reason string // why cgroups cannot be used; empty when they can
	seq    atomic.Int64
}

// cgroupRoot is where the unified (v2) hierarchy is mounted on systemd
// machines.
const cgroupRoot = "/sys/fs/cgroup"

// DetectCgroups checks that a cgroup v2 hierarchy with the memory
// controller is mounted at /sys/fs/cgroup and writable. The result always
// works as a value: when cgroups cannot be used, Unavailable says why.
func DetectCgroups() *Cgroups { return detectCgroups(cgroupRoot) }

func detectCgroups(root string) *Cgroups {
	c := &Cgroups{root: root}
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		c.reason = fmt.Sprintf("%s: %v", root, err)
		return c
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		c.reason = fmt.Sprintf("%s is not a cgroup v2 hierarchy (this machine uses cgroup v1 or a hybrid layout)", root)
		return c
	}
	ctl, err := os.ReadFile(filepath.Join(root, "cgroup.subtree_control"))
	if err != nil {
		c.reason = fmt.Sprintf("reading %s/cgroup.subtree_control: %v", root, err)
		return c
	}
	if !contains(strings.Fields(string(ctl)), "memory") {
		c.reason = fmt.Sprintf("the memory controller is not enabled in %s/cgroup.subtree_control", root)
		return c
	}
	if err := unix.Access(root, unix.W_OK); err != nil {
		c.reason = fmt.Sprintf("%s is not writable (run as root, outside a read-only container)", root)
	}
	return c
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Unavailable says why cgroups cannot be used, or "" when they can.
func (c *Cgroups) Unavailable() string {
	if c == nil {
		return "cgroups not in use"
	}
	return c.reason
}

// Cgroup is one sample's cgroup.
type Cgroup struct {
	dir   string
	fd    int
	limit int64
}

// New creates a cgroup limited to limit bytes of memory and no swap.
func (c *Cgroups) New(limit int64) (*Cgroup, error) {
	if c == nil || c.reason != "" {
		return nil, errors.New(c.Unavailable())
	}
	dir := filepath.Join(c.root, fmt.Sprintf("fnopt-verify-%d-%d", os.Getpid(), c.seq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating cgroup: %w", err)
	}
	cg := &Cgroup{dir: dir, fd: -1, limit: limit}
	if err := cg.write("memory.max", strconv.FormatInt(limit, 10)); err != nil {
		_ = cg.Remove()
		return nil, err
	}
	// Lambda has no swap; without this the limit would only push pages out.
	if _, err := os.Stat(filepath.Join(dir, "memory.swap.max")); err == nil {
		if err := cg.write("memory.swap.max", "0"); err != nil {
			_ = cg.Remove()
			return nil, err
		}
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = cg.Remove()
		return nil, fmt.Errorf("opening cgroup %s: %w", dir, err)
	}
	cg.fd = fd
	return cg, nil
}

func (cg *Cgroup) write(file, value string) error {
	if err := os.WriteFile(filepath.Join(cg.dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("setting %s: %w", file, err)
	}
	return nil
}

// FD is the cgroup directory's descriptor, for clone3's CLONE_INTO_CGROUP
// (syscall.SysProcAttr.CgroupFD): the process is born inside the cgroup,
// so none of its memory is charged elsewhere.
func (cg *Cgroup) FD() int { return cg.fd }

// Limit is the memory limit in bytes.
func (cg *Cgroup) Limit() int64 { return cg.limit }

// OOMKilled reports whether the memory limit killed a process.
func (cg *Cgroup) OOMKilled() bool {
	b, err := os.ReadFile(filepath.Join(cg.dir, "memory.events"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "oom_kill" && f[1] != "0" {
			return true
		}
	}
	return false
}

// Kill kills every process in the cgroup: with cgroup.kill (Linux 5.14+)
// in one step, else one by one.
func (cg *Cgroup) Kill() error {
	if err := cg.write("cgroup.kill", "1"); err == nil {
		return nil
	}
	for _, pid := range cg.procs() {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("killing %d in %s: %w", pid, cg.dir, err)
		}
	}
	return nil
}

func (cg *Cgroup) procs() []int {
	b, err := os.ReadFile(filepath.Join(cg.dir, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Remove kills what is left, waits for the cgroup to empty (processes
// leave it when reaped, by us or by init) and removes it.
func (cg *Cgroup) Remove() error {
	if cg.fd >= 0 {
		unix.Close(cg.fd)
		cg.fd = -1
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.Remove(cg.dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("removing cgroup %s: %w", cg.dir, err)
		}
		_ = cg.Kill()
		time.Sleep(5 * time.Millisecond)
	}
}
