package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// tree performs file operations confined to one directory. Every path is
// resolved by the kernel with openat2(RESOLVE_IN_ROOT): symlinks met on the
// way, absolute ones and ".." included, are resolved as if the directory
// were "/", exactly as they resolve inside the container, so no entry can
// reach outside. The final component of a path is never followed: it is
// created, replaced or removed with the *at calls on its parent.
type tree struct {
	root int // O_PATH descriptor of the root directory
}

func openTree(dir string) (*tree, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	// Probe openat2 once, so an old kernel gets one clear error.
	probe, err := openat2(fd, ".", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.ENOSYS) {
			return nil, errors.New("extracting an image safely needs openat2 (Linux 5.6 or later)")
		}
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	unix.Close(probe)
	return &tree{root: fd}, nil
}

func (t *tree) close() { unix.Close(t.root) }

// openat2 resolves rel inside the root referred to by dirfd.
func openat2(dirfd int, rel string, flags int) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV,
	}
	for range 16 {
		fd, err := unix.Openat2(dirfd, rel, &how)
		// EAGAIN means a concurrent rename raced the resolution; retry.
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		return fd, err
	}
	return -1, unix.EAGAIN
}

// openDir returns an O_PATH descriptor of directory rel.
func (t *tree) openDir(rel string) (int, error) {
	return openat2(t.root, rel, unix.O_PATH|unix.O_DIRECTORY)
}

// mkdirAll returns a descriptor of directory rel, creating missing
// directories (mode 0755) on the way.
func (t *tree) mkdirAll(rel string) (int, error) {
	fd, err := t.openDir(rel)
	if err == nil || !errors.Is(err, unix.ENOENT) || rel == "." {
		return fd, describe(err)
	}
	pfd, err := t.mkdirAll(path.Dir(rel))
	if err != nil {
		return -1, err
	}
	err = unix.Mkdirat(pfd, path.Base(rel), 0o755)
	unix.Close(pfd)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("creating directory %s: %w", rel, err)
	}
	fd, err = t.openDir(rel)
	if errors.Is(err, unix.ENOENT) {
		return -1, fmt.Errorf("%s is a dangling symlink", rel)
	}
	return fd, describe(err)
}

// describe turns resolution errors into the words a report should use.
func describe(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ELOOP):
		return errors.New("symlink loop")
	case errors.Is(err, unix.ENOTDIR):
		return errors.New("a parent is not a directory")
	case errors.Is(err, unix.EXDEV):
		return errors.New("path crosses a mount point")
	}
	return err
}

// lstatAt reports the type of name in dirfd without following it;
// ok is false when nothing is there.
func lstatAt(dirfd int, name string) (mode uint32, ok bool, err error) {
	var st unix.Stat_t
	err = unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return st.Mode & unix.S_IFMT, true, nil
}

// removeAllAt removes name from dirfd, recursing into directories through
// descriptors opened with O_NOFOLLOW, so a symlink is removed, never
// followed.
func removeAllAt(dirfd int, name string) error {
	mode, ok, err := lstatAt(dirfd, name)
	if err != nil || !ok {
		return err
	}
	if mode != unix.S_IFDIR {
		return unix.Unlinkat(dirfd, name, 0)
	}
	if err := clearDirAt(dirfd, name, nil); err != nil {
		return err
	}
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}

// clearDirAt removes the contents of directory name in dirfd, except the
// children for which keep returns true.
func clearDirAt(dirfd int, name string, keep func(child string) bool) error {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	d := os.NewFile(uintptr(fd), name)
	defer d.Close()
	// List first, remove after: removing while reading a directory may
	// make some file systems skip entries.
	names, err := d.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		if keep != nil && keep(n) {
			continue
		}
		if err := removeAllAt(fd, n); err != nil {
			return err
		}
	}
	return nil
}
