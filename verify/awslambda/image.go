package awslambda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/ecrauth"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/verify"
)

// pushedImage is an image fnopt pushed to ECR for a run; it is deleted
// with the functions.
type pushedImage struct {
	repository, digest string
}

// prepareImage loads an image reference (oci:DIR, tar:FILE, a registry)
// and pushes it to the ECR repository.
func (w *workspace) prepareImage(ctx context.Context, acct *Account, src Source, o Options) (*artifact, error) {
	if o.Repository == "" {
		return nil, ErrNoRepository
	}
	if len(o.Arches) > 1 {
		return nil, fmt.Errorf("image %s is one architecture's: measure one at a time", src.Path)
	}
	ref, err := image.ParseRef(src.Path)
	if err != nil {
		return nil, err
	}
	lo := image.LoadOptions{Insecure: o.Insecure}
	if len(o.Arches) == 1 {
		lo.Platform = image.PlatformOf(o.Arches[0])
	}
	img, err := image.Load(ctx, ref, lo)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", src.Path, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of %s: %w", src.Path, err)
	}
	arch, err := settings.ParseArch(cf.Architecture)
	if err != nil {
		return nil, fmt.Errorf("image %s is for %s, which Lambda does not run", src.Path, cf.Architecture)
	}
	return w.pushImage(ctx, acct, src, img, arch, o)
}

// projectImage builds a project's image for arch, as `fnopt build
// --package image` does, and pushes it.
func (w *workspace) projectImage(ctx context.Context, acct *Account, src Source, cfg *config.Config, arch settings.Arch, dir string, o Options) (*artifact, error) {
	if o.Repository == "" {
		return nil, ErrNoRepository
	}
	res, err := dist.Produce(ctx, src.Path, dist.Options{Config: cfg, Arch: arch, Package: "image", OutDir: dir, Log: o.BuildLog, Env: o.BuildEnv})
	if err != nil {
		return nil, fmt.Errorf("building %s for %s: %w", src.Path, arch, err)
	}
	img, err := image.Load(ctx, res.Image.Dest, image.LoadOptions{Platform: image.PlatformOf(arch)})
	if err != nil {
		return nil, err
	}
	a, err := w.pushImage(ctx, acct, src, img, arch, o)
	if err != nil {
		return nil, err
	}
	a.sizes = append(a.sizes, verify.Artifact{Name: "bootstrap", Arch: arch, Bytes: res.Bootstrap.Bytes})
	return a, nil
}

// pushImage pushes img to the repository under a temporary tag and
// returns it as an artifact deployed by digest (a tag can move; a digest
// is what was measured).
func (w *workspace) pushImage(ctx context.Context, acct *Account, src Source, img v1.Image, arch settings.Arch, o Options) (*artifact, error) {
	repo := strings.TrimSuffix(o.Repository, "/")
	if strings.ContainsAny(repo, "@") || strings.Contains(repo[strings.LastIndexByte(repo, '/')+1:], ":") {
		return nil, fmt.Errorf("repository %s: name a repository (REGISTRY/NAME), without a tag or digest", o.Repository)
	}
	host, name, ok := strings.Cut(repo, "/")
	if !ok || name == "" {
		return nil, fmt.Errorf("repository %s: name it as REGISTRY/NAME (ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME)", o.Repository)
	}
	var tag [5]byte
	_, _ = rand.Read(tag[:])
	ref, err := image.ParseRef(repo + ":" + NamePrefix + hex.EncodeToString(tag[:]))
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", o.Repository, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, err
	}
	// The repository was named as ECR's: its registry gets ECR's token
	// whatever its host name, from the run's account and region.
	kc := authn.NewMultiKeychain(&ecrauth.Keychain{Registry: host, Client: acct.ecr}, authn.DefaultKeychain)
	if err := image.Write(ctx, img, ref, image.WriteOptions{Insecure: o.Insecure, Keychain: kc}); err != nil {
		return nil, fmt.Errorf("pushing %s to %s: %w", src.Path, o.Repository, accessDenied(err))
	}
	w.pushed = append(w.pushed, pushedImage{repository: name, digest: digest.String()})
	sizes, err := image.SizesOf(img)
	if err != nil {
		return nil, err
	}
	return &artifact{
		source: src,
		arch:   arch,
		code:   code{imageURI: repo + "@" + digest.String()},
		sizes: []verify.Artifact{
			{Name: "image_compressed", Arch: arch, Bytes: sizes.Compressed},
			{Name: "image_unpacked", Arch: arch, Bytes: sizes.Uncompressed},
		},
	}, nil
}

// deleteImages deletes the images pushed for the run from their
// repository (the temporary tag goes with them).
func (w *workspace) deleteImages(ctx context.Context, acct *Account) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, p := range w.pushed {
		_, err := acct.ecr.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{
			RepositoryName: aws.String(p.repository),
			ImageIds:       []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(p.digest)}},
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("deleting image %s from %s: %w", p.digest, p.repository, accessDenied(err)))
		}
	}
	return errors.Join(errs...)
}
