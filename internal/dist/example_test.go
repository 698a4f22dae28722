package dist_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/settings"
)

// A build for this machine into a folder of the caller's, as verify builds
// a project target: the project's own dist/ is left alone.
func ExampleProduce() {
	out, err := os.MkdirTemp("", "fnopt-build-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(out)
	res, err := dist.Produce(context.Background(), "./hello", dist.Options{
		Arch:    settings.HostArch(),
		Package: "zip",
		OutDir:  out,
		Log:     os.Stderr,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Bootstrap.Path, res.Bootstrap.Bytes, res.Zip.Bytes)
}
