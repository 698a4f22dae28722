package image

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/fnopt/fnopt/internal/atomicfile"
)

// WriteOptions tune Write.
type WriteOptions struct {
	// Insecure allows plain HTTP to a loopback registry.
	Insecure bool
	// Timeout is how long a registry may stay silent; zero means
	// DefaultRegistryTimeout.
	Timeout time.Duration
	// Keychain gives the credentials for a registry; nil takes Amazon
	// ECR's token for ECR registries (package ecrauth) and the Docker
	// config for the others.
	Keychain authn.Keychain
	// Tag is the repo:tag a tar: destination records, so that
	// `docker load` tags the image (Docker refuses untagged tarballs).
	// Empty means the file's base name with tag latest
	// (tar:dist/hello.tar → hello:latest).
	Tag string
}

// DefaultLayoutTag is the tag an oci:DIR destination without one gets:
// umoci and other tools need a tag to name the image.
const DefaultLayoutTag = "latest"

// Write stores img at ref. An oci: folder or tar: file is written
// atomically and never over something that exists (an empty folder is
// accepted); a registry reference is pushed.
func Write(ctx context.Context, img v1.Image, ref Ref, opts WriteOptions) error {
	switch ref.Kind {
	case OCI:
		return writeLayout(img, ref)
	case Tarball:
		return writeTarball(img, ref, opts.Tag)
	case Registry:
		ro := registryOptions{insecure: opts.Insecure, timeout: opts.Timeout, keychain: opts.Keychain}
		n, ropts, err := remoteOptions(ctx, ref.Name, ro)
		if err != nil {
			return err
		}
		if err := remote.Write(n, img, ropts...); err != nil {
			return registryError(ctx, "pushing", n, err, ro)
		}
		return nil
	}
	return fmt.Errorf("writing image: empty reference")
}

func writeLayout(img v1.Image, ref Ref) error {
	dir := ref.Path
	if entries, err := os.ReadDir(dir); err == nil {
		if len(entries) > 0 {
			return fmt.Errorf("writing %s: %s exists and is not empty; choose a new folder or remove it", ref, dir)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("writing %s: %s exists and is not a folder; choose another destination", ref, dir)
	}
	tmp, err := atomicfile.TempSibling(dir)
	if err != nil {
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	tag := ref.Tag
	if tag == "" {
		tag = DefaultLayoutTag
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{RefNameAnnotation: tag})); err != nil {
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	// rename(2) replaces only an empty folder, so a folder that filled up
	// since the check above is still not overwritten. (os.Rename refuses
	// any existing folder, so the system call is used directly.)
	if err := syscall.Rename(tmp, dir); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("writing %s: %s appeared while writing; choose a new folder", ref, dir)
		}
		return fmt.Errorf("writing %s: %w", ref, &os.LinkError{Op: "rename", Old: tmp, New: dir, Err: err})
	}
	ok = true
	return nil
}

func writeTarball(img v1.Image, ref Ref, tagName string) error {
	path := ref.Path
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("writing %s: %s exists; choose a new file or remove it", ref, path)
	}
	if tagName == "" {
		tagName = tagFromFile(path)
	}
	tag, err := name.NewTag(tagName)
	if err != nil {
		return fmt.Errorf("writing %s: tag %q: %w", ref, tagName, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the link below, only the temporary name goes
	if err := tarball.Write(tag, img, f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %s", ref, oneLine(err.Error()))
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	// link(2) fails when path exists: the file appears whole, and never
	// over one that was created meanwhile.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("writing %s: %s appeared while writing; choose a new file", ref, path)
		}
		return fmt.Errorf("writing %s: %w", ref, err)
	}
	return nil
}

var notRepoChars = regexp.MustCompile(`[^a-z0-9._-]+`)

// tagFromFile names a tarball's image after its file.
func tagFromFile(path string) string {
	base := strings.ToLower(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	base = strings.Trim(notRepoChars.ReplaceAllString(base, "-"), "._-")
	if base == "" {
		base = "image"
	}
	return base + ":latest"
}
