package slim_test

import (
	"context"
	"fmt"
	"log"

	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/optimize/slim"
)

// Minimise an image, prove the result answers like the original, and
// write it only then.
func Example() {
	ctx := context.Background()
	src, _ := image.ParseRef("oci:dist/image")
	img, err := image.Load(ctx, src, image.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := slim.Minimize(ctx, img, slim.Options{Event: []byte(`{"orderId":"42"}`)})
	if err != nil {
		log.Fatal(err)
	}
	defer res.Close()
	proof, err := slim.Prove(ctx, src.String(), res.Image, res.Traced.Response, slim.ProofOptions{Samples: 3, Event: []byte(`{"orderId":"42"}`)})
	if err != nil {
		log.Fatal(err)
	}
	if !proof.OK() {
		log.Fatalf("the minimised image probably lacks %s", proof.MissingFile)
	}
	dst, _ := image.ParseRef("oci:dist/image-slim")
	if err := image.Write(ctx, res.Image, dst, image.WriteOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d -> %d bytes\n", res.Before.Compressed, res.After.Compressed)
}
