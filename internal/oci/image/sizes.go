package image

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
)

// Sizes are an image's sizes in bytes.
type Sizes struct {
	// Compressed is what a registry stores and a pull transfers: the
	// layer blobs as the manifest lists them, plus the config and the
	// manifest. (Registries' own "image size" figures are usually the
	// layers alone: that is Layers.)
	Compressed int64
	// LayersCompressed is the sum of the layer blob sizes.
	LayersCompressed int64
	// Uncompressed is the sum of the layers' uncompressed tar streams:
	// what Lambda's 10 GB limit counts.
	Uncompressed int64
	// Config and Manifest are the sizes of those two blobs.
	Config, Manifest int64
	// Layers is the number of layers.
	Layers int
}

// SizesOf measures img. The uncompressed size needs the layers read
// unless they know it; for a remote image that downloads them.
func SizesOf(img v1.Image) (Sizes, error) {
	var s Sizes
	m, err := img.Manifest()
	if err != nil {
		return s, fmt.Errorf("measuring image: reading manifest: %w", err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return s, fmt.Errorf("measuring image: reading manifest: %w", err)
	}
	s.Manifest = int64(len(raw))
	s.Config = m.Config.Size
	s.Layers = len(m.Layers)
	for _, d := range m.Layers {
		s.LayersCompressed += d.Size
	}
	s.Compressed = s.LayersCompressed + s.Config + s.Manifest
	layers, err := img.Layers()
	if err != nil {
		return s, fmt.Errorf("measuring image: listing layers: %w", err)
	}
	for i, l := range layers {
		n, err := partial.UncompressedSize(l)
		if err != nil {
			return s, fmt.Errorf("measuring image: layer %d: %w", i, err)
		}
		s.Uncompressed += n
	}
	return s, nil
}

// LayerCount is the number of layers in img's manifest.
func LayerCount(img v1.Image) (int, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, fmt.Errorf("counting layers: %w", err)
	}
	return len(m.Layers), nil
}
