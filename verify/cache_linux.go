package verify

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Evict drops files from the page cache (posix_fadvise DONTNEED after
// flushing them), so that the next start reads them from disk as a first
// start on Lambda does. The kernel may keep pages that another process
// maps; Evict checks with mincore and says so.
func Evict(files []string) error {
	var errs []error
	for _, f := range files {
		if err := evictFile(f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func evictFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("evicting %s: %w", path, err)
	}
	defer f.Close()
	fd := int(f.Fd())
	// Dirty pages cannot be dropped; a freshly built file has some.
	if err := unix.Fdatasync(fd); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("flushing %s: %w", path, err)
	}
	if err := unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("evicting %s: %w", path, err)
	}
	cached, err := residentPages(f)
	if err != nil {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	if cached > 0 {
		return fmt.Errorf("%s: %d pages still cached (mapped by another process?)", path, cached)
	}
	return nil
}

// residentPages counts f's pages in the page cache.
func residentPages(f *os.File) (int, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() == 0 {
		return 0, nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return 0, fmt.Errorf("mincore: %w", errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n, nil
}
