package awslambda_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/registrytest"
	"github.com/fnopt/fnopt/verify/awslambda"
	"github.com/fnopt/fnopt/verify/awslambda/lambdatest"
	"github.com/fnopt/fnopt/verify/sandbox"
)

func TestMain(m *testing.M) {
	// The double runs images in fnopt's sandbox, which re-executes the
	// test binary as its init.
	sandbox.MaybeRunInit()
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// TestRunImage deploys a project that ships an image, and an image
// reference: each is pushed to the "ECR" repository (Debian's
// docker-registry, authenticated through the ECR keychain), deployed by
// digest at two memory sizes, measured, and deleted with its image.
func TestRunImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs images")
	}
	if err := sandbox.Supported(); err != nil {
		t.Skipf("images run in namespaces: %v", err)
	}
	registry := registrytest.Start(t)
	srv := double(t, lambdatest.Options{Registry: registry})
	host := settings.HostArch()
	dir := project(t, host, "0")
	yaml := filepath.Join(dir, "fnopt.yaml")
	data, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yaml, []byte(strings.Replace(string(data), "package: zip", "package: image", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	built, err := dist.Produce(context.Background(), dir, dist.Options{Arch: host, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, target string }{{"project", dir}, {"image reference", "oci:" + built.Image.Dest.Path}} {
		target := tt.target
		t.Run(tt.name, func(t *testing.T) {
			o := options(2, 2)
			o.MemoryMB = []int{128, 256}
			o.Repository = registry + "/fnopt"
			o.Insecure = true
			res, err := awslambda.Run(context.Background(), []awslambda.Source{{Label: target, Path: target}}, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Configurations) != 2 {
				t.Fatalf("%d configurations", len(res.Configurations))
			}
			for _, c := range res.Configurations {
				if c.Package != "Image" || !strings.HasPrefix(c.Image, registry+"/fnopt@sha256:") || len(c.Samples) != 2 {
					t.Errorf("%s: package %s image %s, %d samples", c.Label, c.Package, c.Image, len(c.Samples))
				}
			}
			if left := srv.Functions(); len(left) != 0 {
				t.Errorf("functions left behind: %v", left)
			}
			if srv.Calls("ecr:GetAuthorizationToken") == 0 {
				t.Error("the push did not authenticate with ECR's token")
			}
			digest := strings.TrimPrefix(res.Configurations[0].Image, registry+"/fnopt@")
			if deleted := srv.DeletedImages(); len(deleted) == 0 || deleted[len(deleted)-1] != digest {
				t.Errorf("images deleted %v, want %s", deleted, digest)
			}
		})
	}

	// Images need a repository to go to.
	_, err = awslambda.Run(context.Background(), []awslambda.Source{{Label: dir, Path: dir}}, options(2, 2))
	if !errors.Is(err, awslambda.ErrNoRepository) {
		t.Errorf("no repository: %v, want ErrNoRepository", err)
	}
}
