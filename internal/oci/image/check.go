package image

import (
	"archive/tar"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/oci/rootfs"
)

// Violation is one failed rule of the Lambda image compliance check.
type Violation struct {
	// Rule is the rule's stable name (one of the Rule constants).
	Rule string
	// Message says what is wrong.
	Message string
	// Fix says what to do about it.
	Fix string
}

func (v Violation) String() string {
	return v.Rule + ": " + v.Message + "; " + v.Fix
}

// The rules of Check, in the order it reports them.
const (
	// RuleManifest: a single-platform image manifest, Docker v2 schema 2
	// or OCI (Lambda rejects indexes and schema 1).
	RuleManifest = "manifest"
	// RuleManifestSize: the manifest is at most MaxManifestBytes.
	RuleManifestSize = "manifest-size"
	// RuleMediaTypes: config and layer media types Lambda accepts.
	RuleMediaTypes = "media-types"
	// RulePlatform: linux on amd64 (x86_64) or arm64.
	RulePlatform = "platform"
	// RuleReadable: every layer can be read as a tar stream.
	RuleReadable = "layers-readable"
	// RuleGzip: every layer is gzip-compressed (not zstd, not
	// uncompressed), by media type and by content.
	RuleGzip = "gzip-layers"
	// RuleParentDirs: every layer lists the parent folders of its
	// entries.
	RuleParentDirs = "parent-directories"
	// RuleUncompressedSize: the layers add up to at most
	// MaxUncompressedBytes.
	RuleUncompressedSize = "uncompressed-size"
	// RuleEntrypoint: ENTRYPOINT (or CMD) names a file in the image.
	RuleEntrypoint = "entrypoint"
	// RuleExecutable: that file is a regular file with execute
	// permission, and an ELF executable or a #! script whose interpreter
	// is in the image and executable.
	RuleExecutable = "executable"
	// RuleArchitecture: an ELF entrypoint (or interpreter) is built for
	// the image's architecture.
	RuleArchitecture = "architecture"
	// RuleLoader: a dynamically linked entrypoint's loader (PT_INTERP)
	// is in the image.
	RuleLoader = "dynamic-loader"
)

// Lambda's limits for container images.
const (
	// MaxUncompressedBytes is Lambda's 10 GB limit on an image's
	// uncompressed size, all layers included (Lambda's GB are GiB).
	MaxUncompressedBytes = 10 << 30
	// MaxManifestBytes is the largest image manifest Lambda takes.
	MaxManifestBytes = 25400
)

// defaultPATH is what a container runtime uses when the image sets none.
const defaultPATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// CheckIndex reports an index (a multi-platform image): Lambda takes only
// a single-platform manifest.
func CheckIndex(idx v1.ImageIndex) []Violation {
	var plats []string
	if im, err := idx.IndexManifest(); err == nil {
		for _, d := range im.Manifests {
			if d.Platform != nil && d.Platform.OS != "unknown" {
				plats = append(plats, d.Platform.String())
			}
		}
	}
	return []Violation{{
		Rule:    RuleManifest,
		Message: fmt.Sprintf("the image is an index (multi-platform image with %s); Lambda accepts only a single-platform image manifest", listOrNone(plats)),
		Fix:     "pick one platform (--platform linux/arm64 or linux/amd64) and use that image",
	}}
}

// CheckRef checks the image at ref as Lambda would see it: when ref names
// an index, that is reported (CheckIndex) rather than one of its images
// checked. The error is for a ref that cannot be read at all.
func CheckRef(ctx context.Context, ref Ref, opts LoadOptions) ([]Violation, error) {
	idx, err := LoadIndex(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	if idx != nil {
		return CheckIndex(idx), nil
	}
	img, err := Load(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	return Check(img), nil
}

// Check runs the Lambda image compliance check on img; no violations
// means Lambda accepts the image. It reads every layer once (several at a
// time).
func Check(img v1.Image) []Violation { return Inspect(img).Violations }

// Inspection is what one read of an image's layers tells.
type Inspection struct {
	// Violations are the Lambda rules the image breaks (Check).
	Violations []Violation
	// Efficiency scores the layers as dive does; zero when they could not
	// be listed.
	Efficiency rootfs.Efficiency
}

// Inspect is Check, and the image's efficiency from the same read of its
// layers.
func Inspect(img v1.Image) (in Inspection) {
	add := func(rule, fix, format string, args ...any) {
		in.Violations = append(in.Violations, Violation{Rule: rule, Message: fmt.Sprintf(format, args...), Fix: fix})
	}

	mt, err := img.MediaType()
	switch {
	case err != nil:
		add(RuleManifest, "check that the image is complete", "reading the manifest media type: %s", oneLine(err.Error()))
	case mt.IsIndex():
		add(RuleManifest, "pick one platform and use that image", "the image is an index (%s); Lambda accepts only a single-platform manifest", mt)
	case mt != types.DockerManifestSchema2 && mt != types.OCIManifestSchema1:
		add(RuleManifest, "rebuild or copy the image with an OCI or Docker v2 schema 2 manifest (skopeo copy --format oci)", "manifest media type %s; Lambda accepts %s and %s", mt, types.OCIManifestSchema1, types.DockerManifestSchema2)
	}
	if raw, err := img.RawManifest(); err != nil {
		add(RuleManifestSize, "check that the image is complete", "reading the manifest: %s", oneLine(err.Error()))
	} else if len(raw) > MaxManifestBytes {
		add(RuleManifestSize, "use fewer layers and annotations", "the manifest is %d bytes; Lambda accepts at most %d", len(raw), MaxManifestBytes)
	}
	if m, err := img.Manifest(); err == nil {
		if cmt := m.Config.MediaType; cmt != types.DockerConfigJSON && cmt != types.OCIConfigJSON {
			add(RuleMediaTypes, "rebuild the image with a standard config", "config media type %s; Lambda accepts %s and %s", cmt, types.OCIConfigJSON, types.DockerConfigJSON)
		}
	}

	cf, err := img.ConfigFile()
	if err != nil {
		add(RulePlatform, "check that the image is complete", "reading the image config: %s", oneLine(err.Error()))
		return in
	}
	if cf.OS != "linux" || (cf.Architecture != "amd64" && cf.Architecture != "arm64") {
		add(RulePlatform, "build the image for linux/arm64 or linux/amd64", "the image is for %s/%s; Lambda runs linux/amd64 (x86_64) and linux/arm64", cf.OS, cf.Architecture)
	}

	layers, err := img.Layers()
	if err != nil {
		add(RuleReadable, "check that the image is complete", "listing layers: %s", oneLine(err.Error()))
		return in
	}
	for i, l := range layers {
		lmt, err := l.MediaType()
		if err != nil {
			continue // reported by the scan
		}
		switch lmt {
		case types.DockerLayer, types.OCILayer:
		case types.OCILayerZStd, types.DockerUncompressedLayer, types.OCIUncompressedLayer:
			add(RuleGzip, "recompress the layer with gzip (skopeo copy --dest-compress-format gzip)", "layer %d has media type %s; Lambda needs gzip layers", i, lmt)
		default:
			add(RuleMediaTypes, "rebuild the image with standard layers", "layer %d has media type %s; Lambda accepts %s and %s", i, lmt, types.OCILayer, types.DockerLayer)
		}
	}

	scans := scanLayers(layers)
	var total int64
	for _, s := range scans {
		if s.err != nil {
			add(RuleReadable, "check the image source; the layer is corrupt or truncated", "%s", oneLine(s.err.Error()))
			continue
		}
		if s.compression != CompressionGzip && (s.mediaType == types.DockerLayer || s.mediaType == types.OCILayer) {
			add(RuleGzip, "recompress the layer with gzip", "layer %d (%s) is %s although its media type says gzip", s.index, short(s.digest), s.compression)
		}
		if len(s.missingParents) > 0 {
			add(RuleParentDirs, "rebuild the layer with an entry for every parent folder (fnopt build does)", "layer %d (%s) lacks the parent folders %s", s.index, short(s.digest), sample(s.missingParents, 5))
		}
		total += s.uncompressed
	}
	if total > MaxUncompressedBytes {
		add(RuleUncompressedSize, "make the image smaller (fnopt optimize image)", "the layers uncompress to %d bytes; Lambda accepts at most %d (10 GiB)", total, int64(MaxUncompressedBytes))
	}
	tree := mergedTree(scans)
	in.Violations = append(in.Violations, checkEntrypoint(tree, cf)...)
	in.Efficiency = tree.Efficiency()
	return in
}

// checkEntrypoint resolves what Lambda runs (ENTRYPOINT followed by CMD,
// argv[0] looked up like exec does) and checks that it can run.
func checkEntrypoint(files *rootfs.Tree, cf *v1.ConfigFile) []Violation {
	argv := append(append([]string(nil), cf.Config.Entrypoint...), cf.Config.Cmd...)
	if len(argv) == 0 || argv[0] == "" {
		return []Violation{{Rule: RuleEntrypoint, Message: "the image has neither ENTRYPOINT nor CMD", Fix: "set the entrypoint to the bootstrap (fnopt build does)"}}
	}
	pathEnv := defaultPATH
	for _, e := range cf.Config.Env {
		if strings.HasPrefix(e, "PATH=") {
			pathEnv = strings.TrimPrefix(e, "PATH=")
		}
	}
	want := elf.EM_X86_64
	if cf.Architecture == "arm64" {
		want = elf.EM_AARCH64
	}
	c := execCheck{files: files, pathEnv: pathEnv, workdir: cf.Config.WorkingDir, want: want, arch: cf.Architecture}
	c.program(argv[0], "the entrypoint", 0)
	return c.vs
}

type execCheck struct {
	files   *rootfs.Tree
	pathEnv string
	workdir string
	want    elf.Machine
	arch    string
	vs      []Violation
}

func (c *execCheck) add(rule, fix, format string, args ...any) {
	c.vs = append(c.vs, Violation{Rule: rule, Message: fmt.Sprintf(format, args...), Fix: fix})
}

// maxScriptDepth is how many #! interpreters Linux chains (it allows 4
// levels of binfmt recursion).
const maxScriptDepth = 4

// program checks that name (as what, e.g. "the entrypoint") runs.
func (c *execCheck) program(name, what string, depth int) {
	p, f, err := lookPath(c.files, name, c.pathEnv, c.workdir)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.add(RuleEntrypoint, "put the file in the image or fix ENTRYPOINT/CMD", "%s %s is not in the image", what, name)
		default:
			c.add(RuleEntrypoint, "fix the symlinks on the way to the file", "%s %s: %s", what, name, oneLine(err.Error()))
		}
		return
	}
	if f.Type != tar.TypeReg && f.Type != tar.TypeLink { // a hardlink is a regular file too
		c.add(RuleExecutable, "point ENTRYPOINT/CMD at an executable file", "%s %s is a %s, not a regular file", what, p, typeName(f.Type))
		return
	}
	if f.Mode&0o111 == 0 {
		c.add(RuleExecutable, "give the file execute permission (chmod 0755) in its layer", "%s %s is not executable (mode %04o)", what, p, f.Mode&0o777)
		return
	}
	head := f.Head
	switch {
	case len(head) >= 2 && string(head[:2]) == "#!":
		if depth >= maxScriptDepth {
			c.add(RuleExecutable, "run the final interpreter directly", "%s %s: more than %d nested #! interpreters", what, p, maxScriptDepth)
			return
		}
		interp, arg := shebang(head)
		if interp == "" {
			c.add(RuleExecutable, "name the interpreter on the #! line", "%s %s has an empty #! line", what, p)
			return
		}
		if !strings.HasPrefix(interp, "/") {
			// exec resolves a relative interpreter from the working
			// folder, never through PATH.
			interp = "./" + interp
		}
		c.program(interp, p+"'s #! interpreter", depth+1)
		if strings.HasSuffix(interp, "/env") && arg != "" && !strings.HasPrefix(arg, "-") {
			c.program(arg, p+"'s #! command (run by env)", depth+1)
		}
	default:
		eh, err := parseELFHead(head)
		if err != nil {
			c.add(RuleExecutable, "use an ELF executable or a #! script", "%s %s is neither an ELF executable nor a #! script", what, p)
			return
		}
		if eh.typ != elf.ET_EXEC && eh.typ != elf.ET_DYN {
			c.add(RuleExecutable, "point ENTRYPOINT/CMD at a linked executable", "%s %s is an ELF %s file, not an executable", what, p, eh.typ)
			return
		}
		if eh.machine != c.want {
			c.add(RuleArchitecture, "build it for the image's architecture (or set the image's architecture to match)", "%s %s is built for %s, the image is %s", what, p, machineName(eh.machine), c.arch)
			return
		}
		if eh.interp != "" {
			if lf, err := c.files.Resolve(eh.interp); err != nil || (lf.Type != tar.TypeReg && lf.Type != tar.TypeLink) {
				c.add(RuleLoader, "link it statically (Go: CGO_ENABLED=0; Rust: -C target-feature=+crt-static) or use a base image that has the loader", "%s %s is dynamically linked and its loader %s is not in the image", what, p, eh.interp)
			}
		}
	}
}

// shebang parses a #! line: the interpreter and its one optional
// argument (Linux passes the rest of the line as a single argument).
func shebang(head []byte) (interp, arg string) {
	line := string(head[2:])
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	interp = line
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		interp, arg = line[:i], line[i:]
	}
	return interp, strings.TrimSpace(arg)
}

// lookPath finds a command as exec does in a container: a name with a
// slash is taken as a path (relative ones from workdir), other names are
// searched in pathEnv (a PATH value). It returns the first match that is
// an executable file; otherwise the first match found (so that Check can
// say what is wrong with it), or an error wrapping fs.ErrNotExist.
func lookPath(files *rootfs.Tree, file, pathEnv, workdir string) (string, rootfs.File, error) {
	if workdir == "" {
		workdir = "/"
	}
	if strings.Contains(file, "/") {
		if !strings.HasPrefix(file, "/") {
			file = path.Join(workdir, file)
		}
		f, err := files.Resolve(file)
		return file, f, err
	}
	var first *rootfs.File
	var firstPath string
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		if !strings.HasPrefix(dir, "/") {
			dir = path.Join(workdir, dir)
		}
		p := path.Join(dir, file)
		f, err := files.Resolve(p)
		if err != nil {
			continue
		}
		if (f.Type == tar.TypeReg || f.Type == tar.TypeLink) && f.Mode&0o111 != 0 {
			return p, f, nil
		}
		if first == nil {
			first, firstPath = &f, p
		}
	}
	if first != nil {
		return firstPath, *first, nil
	}
	return "", rootfs.File{}, fmt.Errorf("%s not found in PATH %s: %w", file, pathEnv, fs.ErrNotExist)
}

func typeName(t byte) string {
	switch t {
	case tar.TypeDir:
		return "folder"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "named pipe"
	}
	return fmt.Sprintf("tar entry of type %q", t)
}

// short abbreviates a digest for messages.
func short(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Algorithm + ":" + h.Hex[:12]
	}
	return h.String()
}

// sample lists up to n items and says how many more there are.
func sample(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
