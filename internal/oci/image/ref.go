package image

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Kind says where an image lives.
type Kind int

const (
	// OCI is an OCI image layout folder (oci:DIR[:TAG]).
	OCI Kind = iota + 1
	// Tarball is a `docker save` style tarball (tar:FILE), as written by
	// `docker save`, `podman save --format docker-archive` and ggcr's
	// tarball package.
	Tarball
	// Registry is an image in a registry (host/repo:tag or @digest).
	Registry
)

// Ref is a parsed image location: one of the three forms ParseRef accepts.
type Ref struct {
	Kind Kind
	// Path is the folder (OCI) or file (Tarball).
	Path string
	// Tag selects an image in an OCI layout by its
	// org.opencontainers.image.ref.name annotation; empty means the only
	// image (or the platform's image) in the layout.
	Tag string
	// Name is the registry reference (Registry only).
	Name name.Reference
}

// String gives the reference back in the form ParseRef reads.
func (r Ref) String() string {
	switch r.Kind {
	case OCI:
		if r.Tag != "" {
			return "oci:" + r.Path + ":" + r.Tag
		}
		return "oci:" + r.Path
	case Tarball:
		return "tar:" + r.Path
	case Registry:
		if r.Name != nil {
			return r.Name.String()
		}
	}
	return ""
}

// tagRe is the grammar of a tag (OCI distribution spec).
var tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

const refForms = "oci:DIR[:TAG], tar:FILE or a registry reference like host/repo:tag"

// ParseRef reads an image reference: oci:DIR[:TAG], tar:FILE, or a
// registry reference (anything name.ParseReference accepts, with an
// optional docker:// prefix as skopeo writes it).
//
// In oci:DIR:TAG the tag is what follows the last colon when it is a
// valid tag and holds no slash, so a folder whose name has a colon is
// still written oci:DIR (oci:a:b reads as folder a, tag b).
func ParseRef(s string) (Ref, error) {
	switch {
	case strings.HasPrefix(s, "oci:"):
		rest := strings.TrimPrefix(s, "oci:")
		dir, tag := rest, ""
		if i := strings.LastIndex(rest, ":"); i >= 0 && tagRe.MatchString(rest[i+1:]) {
			dir, tag = rest[:i], rest[i+1:]
		} else if i >= 0 && i == len(rest)-1 {
			return Ref{}, fmt.Errorf("image reference %q: empty tag after the last colon; write oci:DIR or oci:DIR:TAG", s)
		}
		if dir == "" {
			return Ref{}, fmt.Errorf("image reference %q: missing folder; write oci:DIR[:TAG]", s)
		}
		return Ref{Kind: OCI, Path: dir, Tag: tag}, nil
	case strings.HasPrefix(s, "tar:"):
		file := strings.TrimPrefix(s, "tar:")
		if file == "" {
			return Ref{}, fmt.Errorf("image reference %q: missing file; write tar:FILE", s)
		}
		return Ref{Kind: Tarball, Path: file}, nil
	}
	reg := strings.TrimPrefix(s, "docker://")
	if reg == "" {
		return Ref{}, fmt.Errorf("empty image reference: want %s", refForms)
	}
	if strings.HasPrefix(reg, "/") || strings.HasPrefix(reg, ".") || strings.HasSuffix(reg, ".tar") {
		return Ref{}, fmt.Errorf("image reference %q looks like a path: write oci:%s for an OCI layout folder or tar:%s for a tarball", s, reg, reg)
	}
	n, err := name.ParseReference(reg)
	if err != nil {
		return Ref{}, fmt.Errorf("image reference %q: %v; want %s", s, err, refForms)
	}
	return Ref{Kind: Registry, Name: n}, nil
}
