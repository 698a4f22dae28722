package awslambda

import (
	"context"
	"errors"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// ErrImagesUnsupported: this version deploys zips only.
var ErrImagesUnsupported = errors.New("measuring images on Lambda is not supported yet: measure the zip (package: zip in fnopt.yaml, or a deployment zip)")

// pushedImage is an image fnopt pushed to ECR for a run.
type pushedImage struct {
	repository, digest string
}

// prepareImage would push an image reference to the ECR repository.
func (w *workspace) prepareImage(ctx context.Context, acct *Account, src Source, o Options) (*artifact, error) {
	return nil, ErrImagesUnsupported
}

// projectImage would build a project's image and push it.
func (w *workspace) projectImage(ctx context.Context, acct *Account, src Source, cfg *config.Config, arch settings.Arch, dir string, o Options) (*artifact, error) {
	return nil, ErrImagesUnsupported
}

func (w *workspace) deleteImages(ctx context.Context, acct *Account) error { return nil }
