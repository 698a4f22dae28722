package project

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fnopt/fnopt/internal/bytesize"
)

// binary is a shipped executable found in the project: a built file or an
// entry of a zip archive.
type binary struct {
	rel      string // file, or archive.zip!entry
	size     int64
	upx      bool
	goBinary bool
	debug    int64 // bytes of DWARF sections
	symtab   bool
	// symbols is the bytes of the symbol table and its strings, which
	// -s (and strip) remove with the DWARF sections.
	symbols int64
}

const maxBinaryBytes = 256 << 20

// inspectBinary looks at a file's first bytes and, for ELF files, its
// sections. Non-ELF files give nil.
func inspectBinary(rel string, r io.ReaderAt, size int64) *binary {
	head := make([]byte, min(size, 8192))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil
	}
	if !bytes.HasPrefix(head, []byte("\x7fELF")) {
		return nil
	}
	b := &binary{rel: rel, size: size, upx: bytes.Contains(head, []byte("UPX!"))}
	f, err := elf.NewFile(r)
	if err != nil {
		return b
	}
	defer f.Close()
	for _, s := range f.Sections {
		switch {
		case s.Name == ".go.buildinfo" || s.Name == ".gopclntab":
			b.goBinary = true
		case strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_"):
			b.debug += int64(s.Size)
		case s.Name == ".symtab":
			b.symtab = true
			b.symbols += int64(s.Size)
		case s.Name == ".strtab":
			b.symbols += int64(s.Size)
		}
	}
	return b
}

// findBinaries inspects candidate files (executables and zip archives).
func findBinaries(dir string, rels []string) []*binary {
	var out []*binary
	for _, rel := range rels {
		p := filepath.Join(dir, rel)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxBinaryBytes || fi.Size() < 64 {
			continue
		}
		if strings.HasSuffix(rel, ".zip") {
			out = append(out, zipBinaries(p, rel)...)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		if b := inspectBinary(rel, f, fi.Size()); b != nil {
			out = append(out, b)
		}
		f.Close()
	}
	return out
}

func zipBinaries(p, rel string) []*binary {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil
	}
	defer zr.Close()
	var out []*binary
	for _, e := range zr.File {
		if e.UncompressedSize64 > maxBinaryBytes || e.FileInfo().IsDir() {
			continue
		}
		rc, err := e.Open()
		if err != nil {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxBinaryBytes))
		rc.Close()
		if err != nil {
			continue
		}
		if b := inspectBinary(rel+"!"+e.Name, bytes.NewReader(data), int64(len(data))); b != nil {
			out = append(out, b)
		}
	}
	return out
}

// strippable is what building with -s -w (or stripping) removes from b:
// its DWARF, symbol table and symbol names.
func (b *binary) strippable() int64 { return b.debug + b.symbols }

func (b *binary) describe() string {
	var parts []string
	if b.debug > 0 {
		parts = append(parts, fmt.Sprintf("%s of DWARF debug info", bytesize.Format(b.debug)))
	}
	if b.symtab {
		parts = append(parts, "a symbol table")
	}
	return strings.Join(parts, " and ")
}
