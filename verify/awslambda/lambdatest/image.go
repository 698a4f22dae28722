package lambdatest

import (
	"context"
	"fmt"

	"github.com/fnopt/fnopt/verify"
)

// imageTarget is an Image function's image, pulled from its registry by
// digest and flattened once, as Lambda caches an image for a function;
// every environment runs it in fnopt's namespace sandbox (root needed).
func (f *function) imageTarget(ctx context.Context) (*verify.Target, error) {
	f.imageMu.Lock()
	defer f.imageMu.Unlock()
	if f.image != nil {
		return f.image, nil
	}
	t, err := verify.PrepareImage(ctx, f.imageURI, verify.PrepareOptions{Insecure: true})
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", f.imageURI, err)
	}
	if string(t.Arch) != f.arch {
		t.Close()
		return nil, fmt.Errorf("the double runs images of this machine's architecture (%s), not %s", t.Arch, f.arch)
	}
	f.image = t
	return t, nil
}

// closeImage removes the flattened image.
func (f *function) closeImage() {
	f.imageMu.Lock()
	defer f.imageMu.Unlock()
	if f.image != nil {
		f.image.Close()
		f.image = nil
	}
}

// sandboxStreamStarter is a sandbox's starter that remembers the copy's
// log stream name, as streamStarter does for host processes.
type sandboxStreamStarter struct {
	verify.Starter
	stream *string
}

func (s *sandboxStreamStarter) Start(ctx context.Context, spec verify.StartSpec) (verify.Process, error) {
	*s.stream = streamOf(spec.Env)
	return s.Starter.Start(ctx, spec)
}
