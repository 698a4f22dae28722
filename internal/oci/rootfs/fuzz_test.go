package rootfs

import (
	"archive/tar"
	"strings"
	"testing"
)

// FuzzClassify checks the promise every consumer relies on: whatever the
// name, an entry that is not skipped has a relative path without "..", and
// a hardlink's target is as clean.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"a/b", "/abs", "../x", "a/../../b", "./.wh..wh..opq", "d/.wh...", "//x//y/", ".", "", "a/./b/.wh.c", "..\x00", "x/.."} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, name, link string) {
		for _, typ := range []byte{tar.TypeReg, tar.TypeLink, tar.TypeDir} {
			e := EntryOf(&tar.Header{Name: name, Linkname: link, Typeflag: typ}, 0)
			if e.Skip != "" {
				continue
			}
			for _, p := range []string{e.Path, e.Header.Name} {
				if strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || p == "" {
					t.Fatalf("EntryOf(%q) gave unsafe path %q", name, p)
				}
			}
			if typ == tar.TypeLink && e.Whiteout == NoWhiteout {
				l := e.Header.Linkname
				if strings.HasPrefix(l, "/") || l == ".." || strings.HasPrefix(l, "../") || strings.Contains(l, "/../") || l == "." {
					t.Fatalf("EntryOf(%q → %q) gave unsafe link %q", name, link, l)
				}
			}
		}
	})
}
