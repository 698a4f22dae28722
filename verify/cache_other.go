//go:build !linux

package verify

import "errors"

// Evict cannot drop files from the page cache on this system: only Linux
// offers posix_fadvise(DONTNEED) and mincore to do it and check it, so
// samples start with whatever the system keeps cached.
func Evict(files []string) error {
	if len(files) == 0 {
		return nil
	}
	return errors.New("dropping files from the page cache needs Linux: samples started with the files as this system cached them")
}
