package sandbox

import (
	"path"
	"strings"
)

// FileAccess is one file-related system call of the traced function.
type FileAccess struct {
	PID     int    `json:"pid"`
	Syscall string `json:"syscall"` // openat, execve, newfstatat, readlink, ...
	// Path is the path argument as the function passed it; Resolved is
	// it made absolute against the working directory (empty when it was
	// relative to a directory descriptor).
	Path     string `json:"path"`
	Resolved string `json:"resolved,omitempty"`
	// Result is the return value; Errno names the error ("ENOENT") when
	// the call failed.
	Result int64  `json:"result"`
	Errno  string `json:"errno,omitempty"`
}

// OK reports whether the call succeeded.
func (a FileAccess) OK() bool { return a.Errno == "" }

// FirstFailedOpen returns the first open or exec that failed with ENOENT
// or EACCES for a file the function never found elsewhere, or nil: the
// loader and interpreters probe several directories for each library or
// module, and a miss followed by a hit of the same name is no problem.
// It is what a broken minimised image most probably lacks.
func FirstFailedOpen(trace []FileAccess) *FileAccess {
	found := map[string]bool{}
	for _, a := range trace {
		if a.OK() && isOpen(a.Syscall) {
			found[path.Base(a.Path)] = true
		}
	}
	for i, a := range trace {
		if a.OK() || !isOpen(a.Syscall) || (a.Errno != "ENOENT" && a.Errno != "EACCES") {
			continue
		}
		if found[path.Base(a.Path)] || routineProbe(a.Resolved) {
			continue
		}
		return &trace[i]
	}
	return nil
}

func isOpen(syscall string) bool {
	switch syscall {
	case "open", "openat", "openat2", "creat", "execve", "execveat":
		return true
	}
	return false
}

// routineProbe lists files libc looks for on every start and does
// without (the loader falls back to its default directories without a
// cache).
func routineProbe(p string) bool {
	return p == "/etc/ld.so.preload" || p == "/etc/ld.so.cache" || strings.HasPrefix(p, "/usr/lib/locale/") || strings.Contains(p, "/gconv/")
}
