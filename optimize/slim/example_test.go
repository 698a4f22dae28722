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
	dst, _ := image.ParseRef("oci:dist/image-slim")
	o := slim.MinimizeAndProveOptions{Samples: 3}
	o.Event = []byte(`{"orderId":"42"}`)
	out, err := slim.MinimizeAndProve(ctx, src, dst, o)
	if err != nil {
		log.Fatal(err)
	}
	if !out.Written {
		log.Fatalf("the minimised image probably lacks %s", out.Proof.MissingFile)
	}
	fmt.Printf("%d -> %d bytes, %s\n", out.Before.Compressed, out.After.Compressed, out.Digest)
}
