package image_test

import (
	"context"
	"fmt"
	"log"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
)

// Build an image for an arm64 bootstrap on a base from a registry, check
// it and write it to an OCI layout folder.
func Example() {
	ctx := context.Background()
	created, err := image.SourceDateEpoch()
	if err != nil {
		log.Fatal(err)
	}
	baseRef, err := image.ParseRef("public.ecr.aws/lambda/provided:al2023")
	if err != nil {
		log.Fatal(err)
	}
	base, err := image.Load(ctx, baseRef, image.LoadOptions{Platform: image.PlatformOf(settings.ARM64)})
	if err != nil {
		log.Fatal(err)
	}
	img, err := image.Build(ctx, image.BuildOptions{
		Bootstrap: "dist/bootstrap",
		Arch:      settings.ARM64,
		Base:      base,
		Labels:    map[string]string{image.LabelSource: "https://example.com/fn"},
		Created:   created,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range image.Check(img) {
		fmt.Println(v) // rule: message; fix
	}
	dst, err := image.ParseRef("oci:dist/image:v1")
	if err != nil {
		log.Fatal(err)
	}
	if err := image.Write(ctx, img, dst, image.WriteOptions{}); err != nil {
		log.Fatal(err)
	}
}
