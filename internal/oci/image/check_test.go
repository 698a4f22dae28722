package image

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// bigLayer reports an uncompressed size it does not have, so that the
// 10 GB rule can be tested without writing 10 GB.
type bigLayer struct {
	v1.Layer
	size int64
}

func (b bigLayer) UncompressedSize() (int64, error) { return b.size, nil }

// lyingLayer claims another digest than its content's.
type lyingLayer struct{ v1.Layer }

func (l lyingLayer) Digest() (v1.Hash, error) {
	return v1.NewHash("sha256:" + strings.Repeat("ab", 32))
}

func rules(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		if !slices.Contains(out, v.Rule) {
			out = append(out, v.Rule)
		}
	}
	sort.Strings(out)
	return out
}

func TestCheck(t *testing.T) {
	arm := mustRead(t, bootstrap(t, settings.ARM64))
	amd := mustRead(t, bootstrap(t, settings.X86_64))
	ls := mustRead(t, "/bin/ls")                                        // dynamically linked, x86_64
	loader := mustRead(t, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2") // its PT_INTERP target
	oci := types.OCILayer
	ep := v1.Config{Entrypoint: []string{"/var/runtime/bootstrap"}}
	fnDirs := []entry{dir("var/"), dir("var/runtime/")}
	fn := func(mode int64, data []byte) []entry {
		return append(slices.Clone(fnDirs), file("var/runtime/bootstrap", mode, data))
	}
	good := func() v1.Image { return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, arm)...)) }

	annotations := map[string]string{}
	for i := 0; i < 400; i++ {
		annotations[fmt.Sprintf("example.com/note-%03d", i)] = "an annotation long enough to fill the manifest"
	}
	truncated := func() v1.Layer {
		var buf bytes.Buffer
		rc, _ := gzipLayer(t, oci, fn(0o755, arm)...).Compressed()
		io.Copy(&buf, rc)
		return static.NewLayer(buf.Bytes()[:buf.Len()/2], oci)
	}

	for _, tc := range []struct {
		name string
		img  func() v1.Image
		want []string
	}{
		{"good: fnopt build output", func() v1.Image {
			img, err := Build(t.Context(), BuildOptions{Bootstrap: bootstrap(t, settings.X86_64), Arch: settings.X86_64, CACerts: true})
			if err != nil {
				t.Fatal(err)
			}
			return img
		}, nil},
		{"good: hand-made", good, nil},
		{"good: Docker media types", func() v1.Image {
			img := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
			img, _ = mutate.AppendLayers(img, gzipLayer(t, types.DockerLayer, fn(0o755, arm)...))
			cf, _ := img.ConfigFile()
			cf = cf.DeepCopy()
			cf.OS, cf.Architecture, cf.Config = "linux", "arm64", ep
			img, _ = mutate.ConfigFile(img, cf)
			return img
		}, nil},
		{"good: symlinked entrypoint through PATH", func() v1.Image {
			return imageOf(t, "arm64", v1.Config{Cmd: []string{"run"}, Env: []string{"PATH=/usr/bin"}},
				gzipLayer(t, oci, append(fn(0o755, arm), dir("usr/"), dir("usr/bin/"), symlink("usr/bin/run", "../../../../var/runtime/bootstrap"))...))
		}, nil},
		{"good: relative entrypoint from the working folder", func() v1.Image {
			return imageOf(t, "arm64", v1.Config{Entrypoint: []string{"./bootstrap"}, WorkingDir: "/var/runtime"}, gzipLayer(t, oci, fn(0o755, arm)...))
		}, nil},
		{"good: #! script with env", func() v1.Image {
			return imageOf(t, "arm64", v1.Config{Entrypoint: []string{"/start.sh"}},
				gzipLayer(t, oci, dir("usr/"), dir("usr/bin/"), file("usr/bin/env", 0o755, arm), file("usr/bin/sh", 0o755, arm),
					file("start.sh", 0o755, []byte("#!/usr/bin/env sh\nexec /var/runtime/bootstrap\n"))))
		}, nil},
		{"good: dynamic ELF with its loader", func() v1.Image {
			return imageOf(t, "amd64", v1.Config{Entrypoint: []string{"/bin/ls"}},
				gzipLayer(t, oci, dir("bin/"), file("bin/ls", 0o755, ls), dir("lib64/"), symlink("lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
					dir("lib/"), dir("lib/x86_64-linux-gnu/"), file("lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 0o755, loader)))
		}, nil},

		{"schema 1 manifest", func() v1.Image { return mutate.MediaType(good(), types.DockerManifestSchema1) }, []string{RuleManifest}},
		{"index media type", func() v1.Image { return mutate.MediaType(good(), types.OCIImageIndex) }, []string{RuleManifest}},
		{"config media type", func() v1.Image { return mutate.ConfigMediaType(good(), "application/vnd.example+json") }, []string{RuleMediaTypes}},
		{"oversize manifest", func() v1.Image { return mutate.Annotations(good(), annotations).(v1.Image) }, []string{RuleManifestSize}},
		{"zstd layer", func() v1.Image { return imageOf(t, "arm64", ep, zstdLayer(t, fn(0o755, arm)...)) }, []string{RuleGzip}},
		{"uncompressed layer", func() v1.Image { return imageOf(t, "arm64", ep, plainLayer(t, fn(0o755, arm)...)) }, []string{RuleGzip}},
		{"gzip media type, uncompressed content", func() v1.Image {
			return imageOf(t, "arm64", ep, static.NewLayer(tarOf(t, fn(0o755, arm)...), oci))
		}, []string{RuleGzip}},
		{"foreign layer media type", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, arm)...), gzipLayer(t, types.DockerForeignLayer, dir("etc/")))
		}, []string{RuleMediaTypes}},
		{"truncated layer", func() v1.Image { return imageOf(t, "arm64", ep, truncated()) }, []string{RuleEntrypoint, RuleReadable}},
		{"content does not match its digest", func() v1.Image {
			return imageOf(t, "arm64", ep, lyingLayer{gzipLayer(t, oci, fn(0o755, arm)...)})
		}, []string{RuleEntrypoint, RuleReadable}},
		{"missing parent folders", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, file("var/runtime/bootstrap", 0o755, arm)))
		}, []string{RuleParentDirs}},
		{"missing parent folders in a later layer only", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, arm)...), gzipLayer(t, oci, file("var/task/data.json", 0o644, []byte("{}"))))
		}, []string{RuleParentDirs}},
		{"uncompressed size over 10 GiB", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, arm)...), bigLayer{gzipLayer(t, oci, dir("opt/")), 10<<30 + 1})
		}, []string{RuleUncompressedSize}},
		{"platform", func() v1.Image { return imageOf(t, "arm", ep, gzipLayer(t, oci, fn(0o755, arm)...)) }, []string{RuleArchitecture, RulePlatform}},
		{"no entrypoint or cmd", func() v1.Image { return imageOf(t, "arm64", v1.Config{}, gzipLayer(t, oci, fn(0o755, arm)...)) }, []string{RuleEntrypoint}},
		{"entrypoint target missing", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fnDirs...))
		}, []string{RuleEntrypoint}},
		{"entrypoint not in PATH", func() v1.Image {
			return imageOf(t, "arm64", v1.Config{Cmd: []string{"bootstrap"}}, gzipLayer(t, oci, fn(0o755, arm)...))
		}, []string{RuleEntrypoint}},
		{"entrypoint deleted by a whiteout", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, arm)...), gzipLayer(t, oci, append(slices.Clone(fnDirs), file("var/runtime/.wh.bootstrap", 0o644, nil))...))
		}, []string{RuleEntrypoint}},
		{"entrypoint hidden by an opaque folder", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, arm)...), gzipLayer(t, oci, append(slices.Clone(fnDirs), file("var/runtime/.wh..wh..opq", 0o644, nil), file("var/runtime/other", 0o755, arm))...))
		}, []string{RuleEntrypoint}},
		{"symlink loop", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, dir("var/"), dir("var/runtime/"), symlink("var/runtime/bootstrap", "loop"), symlink("var/runtime/loop", "bootstrap")))
		}, []string{RuleEntrypoint}},
		{"not executable", func() v1.Image { return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o644, arm)...)) }, []string{RuleExecutable}},
		{"entrypoint is a folder", func() v1.Image {
			return imageOf(t, "arm64", v1.Config{Entrypoint: []string{"/var/runtime"}}, gzipLayer(t, oci, fn(0o755, arm)...))
		}, []string{RuleExecutable}},
		{"neither ELF nor script", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, []byte("hello\n"))...))
		}, []string{RuleExecutable}},
		{"ELF object file", func() v1.Image {
			obj := slices.Clone(arm)
			obj[16], obj[17] = byte(elf.ET_REL), 0
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, obj)...))
		}, []string{RuleExecutable}},
		{"wrong ELF machine", func() v1.Image { return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, amd)...)) }, []string{RuleArchitecture}},
		{"script interpreter missing", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, fn(0o755, []byte("#!/bin/bash\necho hi\n"))...))
		}, []string{RuleEntrypoint}},
		{"script interpreter not executable", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, append(fn(0o755, []byte("#!/bin/sh\n")), dir("bin/"), file("bin/sh", 0o644, arm))...))
		}, []string{RuleExecutable}},
		{"script interpreter for another machine", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, append(fn(0o755, []byte("#!/bin/sh -e\n")), dir("bin/"), file("bin/sh", 0o755, amd))...))
		}, []string{RuleArchitecture}},
		{"env runs a missing program", func() v1.Image {
			return imageOf(t, "arm64", ep, gzipLayer(t, oci, append(fn(0o755, []byte("#!/usr/bin/env python3\n")), dir("usr/"), dir("usr/bin/"), file("usr/bin/env", 0o755, arm))...))
		}, []string{RuleEntrypoint}},
		{"dynamic ELF without its loader", func() v1.Image {
			return imageOf(t, "amd64", v1.Config{Entrypoint: []string{"/bin/ls"}}, gzipLayer(t, oci, dir("bin/"), file("bin/ls", 0o755, ls)))
		}, []string{RuleLoader}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := Check(tc.img())
			if got := rules(vs); !slices.Equal(got, tc.want) {
				t.Fatalf("rules %v, want %v: %v", got, tc.want, vs)
			}
			for _, v := range vs {
				if v.Message == "" || v.Fix == "" {
					t.Errorf("violation without message or fix: %+v", v)
				}
			}
		})
	}
}

func TestCheckIndex(t *testing.T) {
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: imageOf(t, "arm64", v1.Config{}), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: imageOf(t, "amd64", v1.Config{}), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	vs := CheckIndex(idx)
	if len(vs) != 1 || vs[0].Rule != RuleManifest {
		t.Fatalf("got %v", vs)
	}
	for _, p := range []string{"linux/arm64", "linux/amd64"} {
		if !bytes.Contains([]byte(vs[0].Message), []byte(p)) {
			t.Errorf("message %q does not list %s", vs[0].Message, p)
		}
	}
}
