// Package artifact writes the deployment package Lambda takes for a zip
// function: a zip with the executable bootstrap at its root. The zip is
// deterministic, so the same binary always gives the same bytes (and the
// same CodeSha256 in Lambda, which lets deploy tools skip no-op updates).
package artifact

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// epoch is the modification time of every entry: the earliest time a zip
// (MS-DOS) timestamp can hold, so nothing about the build moment leaks in.
var epoch = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// entry is one file of the zip.
type entry struct {
	name string      // path inside the zip, slash-separated
	src  string      // file on disk
	mode os.FileMode // permission bits stored in the unix attributes
}

// WriteZip writes a zip holding bootstrap as "bootstrap" (mode 0755) at
// the root to zipPath, atomically, and returns the zip's size in bytes.
// An existing zipPath is replaced only once the new zip is complete.
func WriteZip(bootstrap, zipPath string) (int64, error) {
	return writeZip(zipPath, []entry{{name: settings.Handler, src: bootstrap, mode: 0o755}})
}

func writeZip(zipPath string, entries []entry) (size int64, err error) {
	// Sorted entries: the order of the central directory is part of the
	// bytes, so it must not depend on the caller.
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })

	f, err := os.CreateTemp(filepath.Dir(zipPath), "."+filepath.Base(zipPath)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", zipPath, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()

	zw := zip.NewWriter(f)
	// The best level of the standard library's deflate: deterministic for
	// a given Go release and the smallest it can do.
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	for _, e := range entries {
		if err := addFile(zw, e); err != nil {
			return 0, fmt.Errorf("writing %s: %w", zipPath, err)
		}
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("writing %s: %w", zipPath, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return 0, fmt.Errorf("writing %s: %w", zipPath, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("writing %s: %w", zipPath, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", zipPath, err)
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("writing %s: %w", zipPath, err)
	}
	if err := os.Rename(tmp, zipPath); err != nil {
		return 0, fmt.Errorf("writing %s: %w", zipPath, err)
	}
	return fi.Size(), nil
}

func addFile(zw *zip.Writer, e entry) error {
	src, err := os.Open(e.src)
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.src, err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return fmt.Errorf("reading %s: %w", e.src, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", e.src)
	}
	h := &zip.FileHeader{
		Name:     e.name,
		Method:   zip.Deflate,
		Modified: epoch,
	}
	// SetMode records the mode in the unix external attributes and marks
	// the zip as made on unix; Lambda reads those to keep the exec bit.
	h.SetMode(e.mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, src); err != nil {
		return fmt.Errorf("compressing %s: %w", e.src, err)
	}
	return nil
}
