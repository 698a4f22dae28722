package verify

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Lambda's limits on a deployment package, which extraction enforces so
// that a zip bomb cannot fill the disk.
const (
	MaxUnzippedBytes = 250 << 20 // 262,144,000 bytes, Lambda's unzipped limit
	MaxZipEntries    = 65536
)

// extractZip extracts zipPath into root (an empty folder), at most limit
// bytes, and returns the regular files written and their total size. Every write goes through an
// os.Root, so no entry can land outside root: absolute names and ".."
// are refused, and symbolic links in the archive are created as links
// but never followed during extraction.
func extractZip(zipPath, root string, limit int64) ([]string, int64, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, 0, fmt.Errorf("reading zip %s: %w", zipPath, err)
	}
	defer zr.Close()
	if len(zr.File) > MaxZipEntries {
		return nil, 0, fmt.Errorf("zip %s has %d entries, more than %d", zipPath, len(zr.File), MaxZipEntries)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	var (
		files []string
		total int64
	)
	for _, zf := range zr.File {
		name, err := entryName(zf.Name)
		if err != nil {
			return nil, 0, fmt.Errorf("zip %s: %w", zipPath, err)
		}
		if name == "" {
			continue
		}
		mode := zf.Mode()
		switch {
		case mode.IsDir():
			if err := r.MkdirAll(name, 0o755); err != nil {
				return nil, 0, fmt.Errorf("zip %s: %s: %w", zipPath, zf.Name, err)
			}
		case mode&os.ModeSymlink != 0:
			target, err := readSmall(zf, 4096)
			if err != nil {
				return nil, 0, fmt.Errorf("zip %s: %s: %w", zipPath, zf.Name, err)
			}
			if err := mkParent(r, name); err != nil {
				return nil, 0, fmt.Errorf("zip %s: %s: %w", zipPath, zf.Name, err)
			}
			if err := r.Symlink(string(target), name); err != nil {
				return nil, 0, fmt.Errorf("zip %s: %s: %w", zipPath, zf.Name, err)
			}
		case mode.IsRegular():
			if err := mkParent(r, name); err != nil {
				return nil, 0, fmt.Errorf("zip %s: %s: %w", zipPath, zf.Name, err)
			}
			n, err := writeEntry(r, name, zf, limit-total, limit)
			if err != nil {
				return nil, 0, fmt.Errorf("zip %s: %s: %w", zipPath, zf.Name, err)
			}
			total += n
			files = append(files, filepath.Join(root, filepath.FromSlash(name)))
		default:
			return nil, 0, fmt.Errorf("zip %s: %s is a %v, not a file, folder or link", zipPath, zf.Name, mode.Type())
		}
	}
	return files, total, nil
}

// entryName cleans a zip entry name, refusing names that would leave the
// extraction folder.
func entryName(name string) (string, error) {
	if strings.Contains(name, "\\") || strings.HasPrefix(name, "/") || filepath.VolumeName(name) != "" {
		return "", fmt.Errorf("entry %q has an absolute or non-portable name", name)
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("entry %q leaves the package", name)
	}
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

func mkParent(r *os.Root, name string) error {
	if dir := path.Dir(name); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	return nil
}

// writeEntry writes one file, at most budget bytes, keeping its
// permission bits (bootstrap must stay executable).
func writeEntry(r *os.Root, name string, zf *zip.File, budget, limit int64) (int64, error) {
	rc, err := zf.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	perm := zf.Mode().Perm()
	if perm == 0 {
		perm = 0o644 // archives made without Unix attributes
	}
	f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(rc, budget+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if n > budget {
		return n, fmt.Errorf("the package unzips to more than %d bytes (Lambda's limit is %d)", limit, MaxUnzippedBytes)
	}
	return n, nil
}

func readSmall(zf *zip.File, max int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, errors.New("symbolic link target too long")
	}
	return b, nil
}
