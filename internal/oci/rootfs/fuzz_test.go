package rootfs

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
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

// FuzzFlatten extracts fuzzed layers, each line of the input one entry
// "TYPE NAME [TARGET]" (TYPE f file, d dir, s symlink, h hardlink; OUT in a
// name or target stands for a folder beside the root), and checks that
// nothing outside the root changed, whatever Flatten decided, and that the
// merged Tree of the same layers holds what Flatten wrote.
func FuzzFlatten(f *testing.F) {
	seeds := []string{
		"s esc OUT\nf esc/secret\n",
		"s up ../../..\nf up/pwned\n",
		"s link OUT/secret\n---\nf link\n",
		"s lnk OUT\n---\nf lnk/.wh.secret\nf lnk/.wh..wh..opq\n",
		"s esc OUT\nh h1 esc/secret\nh h2 ../outside/secret\n",
		"s a b\ns b a\nf a/f\n",
		"d d\nf d/x\n---\nf d/.wh..wh..opq\ns d/y OUT\nf d/y/z\n",
		"f /OUT/secret\nf ../outside/secret\n",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		root, outside := sandboxDirs(t)
		var layers [][]ent
		cur := []ent{}
		for _, line := range strings.Split(spec, "\n") {
			if line == "---" {
				layers, cur = append(layers, cur), []ent{}
				continue
			}
			fields := strings.Fields(strings.ReplaceAll(line, "OUT", outside))
			if len(fields) < 2 || len(cur) > 20 {
				continue
			}
			target := ""
			if len(fields) > 2 {
				target = fields[2]
			}
			switch fields[0] {
			case "f":
				cur = append(cur, file(fields[1], "fuzz"))
			case "d":
				cur = append(cur, dir(fields[1]))
			case "s":
				cur = append(cur, symlink(fields[1], target))
			case "h":
				cur = append(cur, hardlink(fields[1], target))
			}
		}
		layers = append(layers, cur)
		var ls []v1.Layer
		for _, l := range layers {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range l {
				h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o755, Size: int64(len(e.body))}
				if tw.WriteHeader(h) != nil {
					return // a name tar cannot even store
				}
				tw.Write([]byte(e.body))
			}
			tw.Close()
			ls = append(ls, layerOf(t, buf.Bytes()))
		}
		img, err := mutate.AppendLayers(empty.Image, ls...)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Flatten(context.Background(), img, root, Limits{})
		assertOutsideUntouched(t, outside)
		if err == nil {
			sameAsFlattened(t, img, root, rep)
		}
	})
}
