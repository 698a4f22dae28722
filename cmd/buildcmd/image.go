package buildcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// imageBase is the image the function is put on; nil is scratch.
type imageBase = v1.Image

// imagePlan is the image part of a build: where it goes and what it is
// built on.
type imagePlan struct {
	dest image.Ref
	// replace marks the default destination, oci:DIR/dist/image, which
	// is fnopt's own and replaced by every build; a destination the user
	// names is never overwritten.
	replace  bool
	base     *image.Ref
	caCerts  bool
	insecure bool
	log      io.Writer // where violations are listed
}

func newImagePlan(opts *Options, dist string) (*imagePlan, error) {
	ip := &imagePlan{caCerts: !opts.NoCA, insecure: opts.Insecure, log: opts.IO.ErrOut}
	if opts.ImageOut == "" {
		ip.dest = image.Ref{Kind: image.OCI, Path: filepath.Join(dist, "image")}
		ip.replace = true
	} else {
		ref, err := image.ParseRef(opts.ImageOut)
		if err != nil {
			return nil, fmt.Errorf("--image-out: %w", err)
		}
		// Refuse an existing destination before anything is built.
		if ref.Kind == image.OCI || ref.Kind == image.Tarball {
			if err := checkAbsent(ref); err != nil {
				return nil, err
			}
		}
		ip.dest = ref
	}
	if opts.Base != "" {
		ref, err := image.ParseRef(opts.Base)
		if err != nil {
			return nil, fmt.Errorf("--base: %w", err)
		}
		ip.base = &ref
	}
	return ip, nil
}

// checkAbsent fails when an oci: folder (other than an empty one) or a
// tar: file is already there.
func checkAbsent(ref image.Ref) error {
	fi, err := os.Stat(ref.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("--image-out %s: %w", ref, err)
	}
	if fi.IsDir() && ref.Kind == image.OCI {
		ents, err := os.ReadDir(ref.Path)
		if err == nil && len(ents) == 0 {
			return nil
		}
	}
	return fmt.Errorf("--image-out %s: %s exists: remove it or choose another destination", ref, ref.Path)
}

func (ip *imagePlan) loadBase(ctx context.Context, arch settings.Arch) (imageBase, error) {
	if ip.base == nil {
		return nil, nil
	}
	img, err := image.Load(ctx, *ip.base, image.LoadOptions{Platform: image.PlatformOf(arch), Insecure: ip.insecure})
	if err != nil {
		return nil, fmt.Errorf("loading the base image %s: %w", ip.base, err)
	}
	return img, nil
}

// make builds the image around the bootstrap, checks it against Lambda's
// rules and writes it: to the staging folder for the default destination,
// otherwise to the destination itself.
func (ip *imagePlan) make(ctx context.Context, prog *progress, res *build.Result, cfg *config.Config, base imageBase, stage string) (*ImageReport, error) {
	prog.step("assembling the image")
	created, err := image.SourceDateEpoch()
	if err != nil {
		return nil, err
	}
	img, err := image.Build(ctx, image.BuildOptions{
		Bootstrap: res.Bootstrap,
		Arch:      res.Arch,
		Base:      base,
		CACerts:   ip.caCerts,
		Labels:    labels(cfg, res, ip.base),
		Created:   created,
	})
	if err != nil {
		return nil, fmt.Errorf("building the image: %w", err)
	}
	// fnopt checks its own output as it checks anyone's image: a
	// violation here is a bug in fnopt or a base Lambda cannot run.
	// A bootstrap for an image without a base is linked statically
	// (build.Options.Static); one still dynamic on no base fails here
	// with the fix.
	switch vs := image.Check(img); {
	case len(vs) == 0:
	case len(vs) == 1 && vs[0].Rule == image.RuleLoader && ip.base == nil:
		return nil, fmt.Errorf("the image breaks Lambda's rule %s: the bootstrap is dynamically linked and an image without a base has no loader or libc: pass --base with a provided.al2023 image (public.ecr.aws/lambda/provided:al2023), or deploy dist/function.zip", image.RuleLoader)
	case len(vs) == 1:
		return nil, fmt.Errorf("the image breaks Lambda's rule %s", vs[0])
	default:
		names := make([]string, len(vs))
		for i, v := range vs {
			fmt.Fprintf(ip.log, "  %s\n", v)
			names[i] = v.Rule
		}
		return nil, fmt.Errorf("the image breaks Lambda's rules (%s): see the fixes above", strings.Join(names, ", "))
	}
	rep, err := imageReport(img, ip.dest.String())
	if err != nil {
		return nil, err
	}

	dest := ip.dest
	if ip.replace {
		dest = image.Ref{Kind: image.OCI, Path: filepath.Join(stage, "image")}
	}
	if dest.Kind == image.Registry {
		prog.step("pushing to " + ip.dest.String())
	} else {
		prog.step("writing " + ip.dest.String())
	}
	if err := image.Write(ctx, img, dest, image.WriteOptions{Insecure: ip.insecure}); err != nil {
		return nil, err
	}
	return rep, nil
}

// install moves the staged default image to dist/image, replacing the
// previous build's. The old one is first renamed into the staging folder
// (removed with it) so dist/image is never a half-deleted folder.
func (ip *imagePlan) install(stage string) error {
	if !ip.replace {
		return nil
	}
	if err := os.Rename(ip.dest.Path, filepath.Join(stage, "old-image")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replacing %s: %w", ip.dest.Path, err)
	}
	if err := os.Rename(filepath.Join(stage, "image"), ip.dest.Path); err != nil {
		return fmt.Errorf("installing %s: %w", ip.dest.Path, err)
	}
	return nil
}

// labels name the source and the settings in the image, so an image found
// in a registry says how it was made. Nothing machine- or time-specific
// goes in: the digest stays reproducible.
func labels(cfg *config.Config, res *build.Result, base *image.Ref) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title": cfg.Name,
		image.LabelSource:                cfg.Language + " " + res.Package,
		image.LabelSettings:              res.Command,
	}
	if base != nil {
		l["org.opencontainers.image.base.name"] = base.String()
	}
	return l
}

// imageReport describes img written to dest: its digest, platform and
// sizes.
func imageReport(img v1.Image, dest string) (*ImageReport, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading the image's digest: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image's config: %w", err)
	}
	sz, err := image.SizesOf(img)
	if err != nil {
		return nil, err
	}
	return &ImageReport{
		Destination:       dest,
		Digest:            d.String(),
		Platform:          cf.OS + "/" + cf.Architecture,
		CompressedBytes:   sz.Compressed,
		UncompressedBytes: sz.Uncompressed,
	}, nil
}
