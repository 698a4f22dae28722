package dist

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
)

// imageDir is the default image's name in the output folder.
const imageDir = "image"

// ImageOptions say how an image build makes its image.
type ImageOptions struct {
	// Dest is where the image goes. The zero Ref is OUTDIR/image, an OCI
	// layout that is fnopt's own: it is installed with the other
	// artifacts, replacing the previous build's. Any other destination
	// must be free and writable (image.CheckAbsent: Produce fails with its
	// *image.DestError before building) and is written, or pushed, before
	// the artifacts are installed.
	Dest image.Ref
	// Base is the image the function is put on; nil is none (scratch),
	// and the bootstrap is then linked statically.
	Base *image.Ref
	// NoCACerts leaves the CA certificates out of the image.
	NoCACerts bool
	// Limits are thresholds on the image's efficiency; the image is
	// written and installed whatever they say, and ImageResult.Failed
	// lists those it does not meet.
	Limits rootfs.EfficiencyLimits
	// Insecure allows plain HTTP to a registry on loopback, for Base and
	// Dest; with either on another host, Produce fails with an
	// *image.InsecureHostError before building.
	Insecure bool
}

// ImageResult describes the image written.
type ImageResult struct {
	// Dest is where it was written: ImageOptions.Dest, or OUTDIR/image.
	Dest image.Ref
	// Digest is the manifest's digest.
	Digest   string
	Platform string // os/architecture
	// CompressedBytes is what a registry stores and Lambda pulls: the
	// manifest, the config and the gzip-compressed layers.
	CompressedBytes int64
	// UncompressedBytes is the sum of the layers' uncompressed sizes, the
	// figure Lambda's 10 GB limit applies to.
	UncompressedBytes int64
	// Efficiency scores the layers as dive does (rootfs.Efficiency).
	Efficiency rootfs.Efficiency
	// Failed are the ImageOptions.Limits the image does not meet.
	Failed []rootfs.LimitFailure
}

// ErrImageOnly is returned for a base image, leaving out the CA
// certificates or efficiency thresholds in a build that makes no image.
var ErrImageOnly = errors.New("a base image, leaving out the CA certificates and efficiency thresholds apply to images only: build an image")

// ErrNoLoader is wrapped by the error for an image on no base whose
// bootstrap is dynamically linked: only a base image with a loader and a
// libc (provided.al2023), or the zip, can run it.
var ErrNoLoader = errors.New("the bootstrap is dynamically linked and an image without a base has no loader or libc")

// imagePlan is the image part of a build.
type imagePlan struct {
	opts ImageOptions
	dest image.Ref
	// install marks the default destination, written to the staging
	// folder and installed with the other artifacts; a destination the
	// caller names is never overwritten.
	install bool
}

func newImagePlan(o ImageOptions, out string) (*imagePlan, error) {
	ip := &imagePlan{opts: o, dest: o.Dest}
	// Plain HTTP to a registry off this machine is refused before the
	// build, not at the push after it.
	for _, r := range []*image.Ref{&o.Dest, o.Base} {
		if r != nil {
			if err := image.CheckInsecure(*r, o.Insecure); err != nil {
				return nil, err
			}
		}
	}
	if o.Dest.Kind == 0 {
		ip.dest = image.Ref{Kind: image.OCI, Path: filepath.Join(out, imageDir)}
		ip.install = true
		return ip, nil
	}
	if err := image.CheckAbsent(o.Dest); err != nil {
		return nil, err
	}
	return ip, nil
}

func (ip *imagePlan) loadBase(ctx context.Context, arch settings.Arch) (v1.Image, error) {
	img, err := image.Load(ctx, *ip.opts.Base, image.LoadOptions{Platform: image.PlatformOf(arch), Insecure: ip.opts.Insecure})
	if err != nil {
		return nil, fmt.Errorf("loading the base image %s: %w", ip.opts.Base, err)
	}
	return img, nil
}

// make builds the image around the bootstrap, checks it against Lambda's
// rules and writes it: into the staging folder for the default
// destination, otherwise to the destination itself.
func (ip *imagePlan) make(ctx context.Context, p *plan, res *build.Result, base v1.Image, stage string) (*ImageResult, error) {
	p.steps.step("assembling the image")
	created, err := image.SourceDateEpoch()
	if err != nil {
		return nil, err
	}
	img, err := image.Build(ctx, image.BuildOptions{
		Bootstrap: filepath.Join(stage, settings.Handler),
		Arch:      p.arch,
		Base:      base,
		CACerts:   !ip.opts.NoCACerts,
		Labels:    labels(p.cfg, res, ip.opts.Base),
		Created:   created,
	})
	if err != nil {
		return nil, fmt.Errorf("building the image: %w", err)
	}
	eff, err := ip.check(img, p)
	if err != nil {
		return nil, err
	}
	ir, err := describe(img, ip.dest)
	if err != nil {
		return nil, err
	}
	ir.Efficiency, ir.Failed = eff, ip.opts.Limits.Check(eff)
	dest := ip.dest
	if ip.install {
		dest = image.Ref{Kind: image.OCI, Path: filepath.Join(stage, imageDir)}
	}
	if dest.Kind == image.Registry {
		p.steps.step("pushing to " + ip.dest.String())
	} else {
		p.steps.step("writing " + ip.dest.String())
	}
	if err := image.Write(ctx, img, dest, image.WriteOptions{Insecure: ip.opts.Insecure}); err != nil {
		return nil, err
	}
	return ir, nil
}

// check holds fnopt's own output to the rules it checks anyone's image
// against, and scores the image's layers in the same read: a violation
// is a bug in fnopt or a base Lambda cannot run. A bootstrap for an image
// on no base is linked statically
// (build.Options.Static); one still dynamic fails with ErrNoLoader.
func (ip *imagePlan) check(img v1.Image, p *plan) (rootfs.Efficiency, error) {
	in := image.Inspect(img)
	switch vs := in.Violations; {
	case len(vs) == 0:
		return in.Efficiency, nil
	case len(vs) == 1 && vs[0].Rule == image.RuleLoader && ip.opts.Base == nil:
		return rootfs.Efficiency{}, fmt.Errorf("the image breaks Lambda's rule %s: %w", image.RuleLoader, ErrNoLoader)
	case len(vs) == 1:
		return rootfs.Efficiency{}, fmt.Errorf("the image breaks Lambda's rule %s", vs[0])
	default:
		names := make([]string, len(vs))
		for i, v := range vs {
			fmt.Fprintf(p.log, "  %s\n", v)
			names[i] = v.Rule
		}
		return rootfs.Efficiency{}, fmt.Errorf("the image breaks Lambda's rules (%s): see the fixes above", strings.Join(names, ", "))
	}
}

// labels name the source and the settings in the image, so an image found
// in a registry says how it was made. Nothing machine- or time-specific
// goes in: the digest stays reproducible.
func labels(cfg *config.Config, res *build.Result, base *image.Ref) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title": cfg.Name,
		image.LabelSource:                string(cfg.Language) + " " + res.Package,
		image.LabelSettings:              res.Command,
	}
	if base != nil {
		l["org.opencontainers.image.base.name"] = base.String()
	}
	return l
}

// describe gives img's digest, platform and sizes.
func describe(img v1.Image, dest image.Ref) (*ImageResult, error) {
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
	return &ImageResult{
		Dest:              dest,
		Digest:            d.String(),
		Platform:          cf.OS + "/" + cf.Architecture,
		CompressedBytes:   sz.Compressed,
		UncompressedBytes: sz.Uncompressed,
	}, nil
}
