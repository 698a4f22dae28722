//go:build ignore

// zip.go packages a Lambda bootstrap: `go run zip.go BOOTSTRAP ZIP` writes
// ZIP holding BOOTSTRAP at its root as "bootstrap", mode 0755, with a fixed
// time and the standard library's best compression, so the same binary
// always gives the same zip: byte for byte the zip `fnopt build` writes,
// built with the same Go release (fnopt's tests compare them). `make zip`
// runs it; it needs nothing but Go.
package main

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run zip.go BOOTSTRAP ZIP")
		os.Exit(2)
	}
	if err := writeZip(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func writeZip(bootstrap, out string) error {
	in, err := os.Open(bootstrap)
	if err != nil {
		return err
	}
	defer in.Close()
	// Write next to out and rename, so an interrupted run never leaves a
	// half-written zip behind.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".function.zip.tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	zw := zip.NewWriter(tmp)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	// The earliest time a zip can hold: nothing of the build moment leaks
	// in. SetMode marks the zip as made on unix with the mode Lambda reads
	// to keep bootstrap executable.
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, in); err != nil {
		return fmt.Errorf("zipping %s: %w", bootstrap, err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; a zip is no secret.
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
