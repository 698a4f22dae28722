package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// RefNameAnnotation is the OCI annotation that names (tags) an image in an
// OCI layout's index.json.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// LoadOptions tune Load.
type LoadOptions struct {
	// Platform picks the image out of an index. Nil means linux/<host
	// architecture>, as `docker pull` does. For a single image a non-nil
	// Platform must match the image's own.
	Platform *v1.Platform
	// Insecure allows plain HTTP to a loopback registry.
	Insecure bool
	// Timeout is how long a registry may stay silent; zero means
	// DefaultRegistryTimeout.
	Timeout time.Duration
}

func (o LoadOptions) registry() registryOptions {
	return registryOptions{insecure: o.Insecure, timeout: o.Timeout}
}

// PlatformOf is the OCI platform of a Lambda architecture.
func PlatformOf(arch settings.Arch) *v1.Platform {
	return &v1.Platform{OS: "linux", Architecture: arch.GOARCH()}
}

// Load reads the image at ref. An index (multi-platform image) gives the
// image of the requested platform, or an error listing the platforms it
// has.
func Load(ctx context.Context, ref Ref, opts LoadOptions) (v1.Image, error) {
	want := opts.Platform
	explicit := want != nil
	if want == nil {
		want = &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	var (
		img v1.Image
		err error
	)
	switch ref.Kind {
	case OCI:
		img, err = loadLayout(ref, *want, explicit)
	case Tarball:
		img, err = loadTarball(ref, *want, explicit)
	case Registry:
		img, err = loadRemote(ctx, ref, *want, explicit, opts.registry())
	default:
		return nil, fmt.Errorf("loading image: empty reference")
	}
	if err != nil {
		return nil, err
	}
	if explicit {
		if err := checkPlatform(img, *want); err != nil {
			return nil, fmt.Errorf("loading %s: %w", ref, err)
		}
	}
	return img, nil
}

func loadTarball(ref Ref, want v1.Platform, explicit bool) (v1.Image, error) {
	if _, err := os.Stat(ref.Path); err != nil {
		return nil, fmt.Errorf("loading %s: %w", ref, err)
	}
	kind, files, err := tarKind(ref.Path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", ref, err)
	}
	if kind == "oci" {
		idx, err := (&ociLayout{files: files, source: ref.String()}).index()
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", ref, err)
		}
		return fromLayoutIndex(ref, idx, want, explicit)
	}
	img, err := loadDockerArchive(files, ref.String())
	var berr *BlobError
	if errors.As(err, &berr) {
		return nil, fmt.Errorf("loading %s: %w", ref, err)
	}
	if err != nil {
		return nil, fmt.Errorf("loading %s: %s (want a tarball as `docker save` writes it, with one image)", ref, oneLine(err.Error()))
	}
	return img, nil
}

// tarKind indexes a tar file and tells a `docker save` tarball ("docker",
// manifest.json at the top) from an OCI archive ("oci", index.json and no
// manifest.json).
func tarKind(file string) (string, *tarFiles, error) {
	files, err := indexTar(file)
	if err != nil {
		return "", nil, err
	}
	switch {
	case files.has("manifest.json"):
		return "docker", files, nil
	case files.has("index.json"):
		return "oci", files, nil
	}
	return "", nil, fmt.Errorf("%s has neither manifest.json (docker save) nor index.json (OCI archive)", file)
}

func loadLayout(ref Ref, want v1.Platform, explicit bool) (v1.Image, error) {
	if _, err := os.Stat(filepath.Join(ref.Path, "index.json")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("loading %s: %s is not an OCI image layout (no index.json)", ref, ref.Path)
		}
		return nil, fmt.Errorf("loading %s: %w", ref, err)
	}
	idx, err := layoutOf(ref).index()
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", ref, err)
	}
	return fromLayoutIndex(ref, idx, want, explicit)
}

// layoutOf is the OCI layout folder ref names. Errors name it oci:DIR:
// the blobs are the folder's, whatever the tag.
func layoutOf(ref Ref) *ociLayout {
	return &ociLayout{files: dirFiles{dir: ref.Path}, source: "oci:" + ref.Path}
}

// fromLayoutIndex picks the image out of an OCI layout's index.json: the
// one tagged ref.Tag, or the only one, or the platform's.
func fromLayoutIndex(ref Ref, idx v1.ImageIndex, want v1.Platform, explicit bool) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("loading %s: reading index.json: %w", ref, err)
	}
	descs := im.Manifests
	if ref.Tag != "" {
		var tagged []v1.Descriptor
		var tags []string
		for _, d := range descs {
			t := d.Annotations[RefNameAnnotation]
			if t == ref.Tag {
				tagged = append(tagged, d)
			} else if t != "" {
				tags = append(tags, t)
			}
		}
		if len(tagged) == 0 {
			return nil, fmt.Errorf("loading %s: no image tagged %q in %s (tags: %s)", ref, ref.Tag, ref.Path, listOrNone(tags))
		}
		descs = tagged
	}
	if len(descs) == 0 {
		return nil, fmt.Errorf("loading %s: %s holds no image", ref, ref.Path)
	}
	img, err := pick(idx, descs, want, explicit)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", ref, err)
	}
	// The config is small and checked against its digest when read: a
	// layout changed since it was written is said now, not mid-run.
	if _, err := img.RawConfigFile(); err != nil {
		return nil, fmt.Errorf("loading %s: %w", ref, err)
	}
	return img, nil
}

func loadRemote(ctx context.Context, ref Ref, want v1.Platform, explicit bool, ro registryOptions) (v1.Image, error) {
	n, desc, err := getRemote(ctx, ref, ro)
	if err != nil {
		return nil, err
	}
	if !desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			return nil, registryError(ctx, "pulling", n, err, ro)
		}
		return img, nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, registryError(ctx, "pulling", n, err, ro)
	}
	img, err := pickFromIndex(idx, want, explicit)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", n, err)
	}
	return img, nil
}

// getRemote fetches the descriptor of ref (an image or an index) from
// its registry with ro's transport and deadlines. It returns the name the
// options resolved, for errors about later reads of the same image.
func getRemote(ctx context.Context, ref Ref, ro registryOptions) (name.Reference, *remote.Descriptor, error) {
	n, opts, err := remoteOptions(ctx, ref.Name, ro)
	if err != nil {
		return nil, nil, err
	}
	desc, err := remote.Get(n, opts...)
	if err != nil {
		return nil, nil, registryError(ctx, "pulling", n, err, ro)
	}
	return n, desc, nil
}

// pickFromIndex returns the image for want out of an index.
func pickFromIndex(idx v1.ImageIndex, want v1.Platform, explicit bool) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index: %w", err)
	}
	return pick(idx, im.Manifests, want, explicit)
}

// pick chooses among the descriptors of idx: a single image is taken as
// it is (its platform is checked by Load when asked for), a nested index
// is searched, and several images are chosen between by platform.
func pick(idx v1.ImageIndex, descs []v1.Descriptor, want v1.Platform, explicit bool) (v1.Image, error) {
	if len(descs) == 1 {
		d := descs[0]
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading index %s: %w", d.Digest, err)
			}
			return pickFromIndex(child, want, explicit)
		case d.MediaType.IsImage():
			return idx.Image(d.Digest)
		default:
			return nil, fmt.Errorf("%s is a %s, not an image", d.Digest, d.MediaType)
		}
	}
	var have []string
	for _, d := range descs {
		if !d.MediaType.IsImage() {
			continue
		}
		p := d.Platform
		if p == nil {
			// Some tools leave the platform out of the index; the
			// image's config has it.
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("reading image %s: %w", d.Digest, err)
			}
			cf, err := img.ConfigFile()
			if err != nil {
				return nil, fmt.Errorf("reading config of image %s: %w", d.Digest, err)
			}
			p = cf.Platform()
		}
		if p == nil || p.OS == "unknown" {
			continue // attestations and other artefacts
		}
		if platformMatches(*p, want) {
			return idx.Image(d.Digest)
		}
		have = append(have, p.String())
	}
	sort.Strings(have)
	return nil, &PlatformError{Want: want, Have: have, Default: !explicit}
}

// PlatformError is an index (a multi-platform image) without an image for
// the platform wanted. Commands say how to pick another.
type PlatformError struct {
	Want v1.Platform
	// Have are the platforms the index has, sorted.
	Have []string
	// Default is true when Want was not asked for but is the host's.
	Default bool
}

func (e *PlatformError) Error() string {
	want := e.Want.String()
	if e.Default {
		want += " (this machine's)"
	}
	return fmt.Sprintf("no %s image in the index; it has %s", want, listOrNone(e.Have))
}

// platformMatches compares OS, architecture and (when wanted) variant;
// arm64's default variant v8 equals no variant.
func platformMatches(have, want v1.Platform) bool {
	if have.OS != want.OS || have.Architecture != want.Architecture {
		return false
	}
	if want.Variant == "" {
		return true
	}
	norm := func(p v1.Platform) string {
		if p.Architecture == "arm64" && p.Variant == "v8" {
			return ""
		}
		return p.Variant
	}
	return norm(have) == norm(want)
}

// checkPlatform fails when img's config is for another platform.
func checkPlatform(img v1.Image, want v1.Platform) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("reading image config: %w", err)
	}
	have := v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}
	if !platformMatches(have, want) {
		return fmt.Errorf("the image is %s, not %s", have, want)
	}
	return nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// LoadIndex returns the index ref names, or nil when ref names a single
// image. In an OCI layout, the image tagged (or the only entry) counts,
// not index.json itself, which is an index in every layout. opts.Platform
// is not used.
func LoadIndex(ctx context.Context, ref Ref, opts LoadOptions) (v1.ImageIndex, error) {
	switch ref.Kind {
	case Registry:
		ro := opts.registry()
		n, desc, err := getRemote(ctx, ref, ro)
		if err != nil {
			return nil, err
		}
		if !desc.MediaType.IsIndex() {
			return nil, nil
		}
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, registryError(ctx, "pulling", n, err, ro)
		}
		return idx, nil
	case OCI:
		idx, err := layoutOf(ref).index()
		if err != nil {
			return nil, fmt.Errorf("loading %s: %s is not an OCI image layout: %w", ref, ref.Path, err)
		}
		return nestedIndex(ref, idx)
	case Tarball:
		kind, files, err := tarKind(ref.Path)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", ref, err)
		}
		if kind != "oci" {
			return nil, nil
		}
		idx, err := (&ociLayout{files: files, source: ref.String()}).index()
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", ref, err)
		}
		return nestedIndex(ref, idx)
	}
	return nil, nil
}

// nestedIndex returns the index a layout's index.json points at for
// ref.Tag (or as its only entry), nil when that is an image.
func nestedIndex(ref Ref, idx v1.ImageIndex) (v1.ImageIndex, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("loading %s: reading index.json: %w", ref, err)
	}
	var found []v1.Descriptor
	for _, d := range im.Manifests {
		if ref.Tag == "" || d.Annotations[RefNameAnnotation] == ref.Tag {
			found = append(found, d)
		}
	}
	if len(found) != 1 || !found[0].MediaType.IsIndex() {
		return nil, nil
	}
	child, err := idx.ImageIndex(found[0].Digest)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", ref, err)
	}
	return child, nil
}
