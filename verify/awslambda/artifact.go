package awslambda

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify"
)

// artifact is a source built (or read) for one architecture, ready to be
// deployed.
type artifact struct {
	source Source
	arch   settings.Arch
	code   code
	sizes  []verify.Artifact
}

func (a *artifact) packageType() string {
	if a.code.imageURI != "" {
		return "Image"
	}
	return "Zip"
}

// workspace holds what preparing the sources made: temporary build
// folders and the images pushed.
type workspace struct {
	dirs   []string
	pushed []pushedImage
}

func (w *workspace) close() {
	for _, d := range w.dirs {
		os.RemoveAll(d)
	}
}

func (w *workspace) tempDir() (string, error) {
	d, err := os.MkdirTemp("", "fnopt-aws-")
	if err != nil {
		return "", fmt.Errorf("creating a temporary folder: %w", err)
	}
	w.dirs = append(w.dirs, d)
	return d, nil
}

// prepare turns a source into one artifact per architecture: a project
// is built by dist.Produce as `fnopt build` builds it (for its own
// architecture unless others are asked for, and as an image when its
// fnopt.yaml ships one); a zip is taken as it is; an image is pushed.
func (w *workspace) prepare(ctx context.Context, acct *Account, src Source, o Options) ([]*artifact, error) {
	if verify.IsImageRef(src.Path) {
		a, err := w.prepareImage(ctx, acct, src, o)
		if err != nil {
			return nil, err
		}
		return []*artifact{a}, nil
	}
	st, err := os.Stat(src.Path)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", src.Path, err)
	}
	if st.IsDir() {
		return w.prepareProject(ctx, acct, src, o)
	}
	data, err := os.ReadFile(src.Path)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", src.Path, err)
	}
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return nil, fmt.Errorf("%s is not a deployment zip: Lambda takes a zip, an image or a project to build", src.Path)
	}
	a, err := zipArtifact(src, src.Path, data, o.Arches)
	if err != nil {
		return nil, err
	}
	return []*artifact{a}, nil
}

// prepareProject builds the project for each architecture asked for.
func (w *workspace) prepareProject(ctx context.Context, acct *Account, src Source, o Options) ([]*artifact, error) {
	cfg, err := config.Load(src.Path)
	if err != nil {
		return nil, err
	}
	cfg = cfg.WithProgram(o.Program)
	arches := o.Arches
	if len(arches) == 0 {
		arches = []settings.Arch{cfg.Architecture()}
	}
	var out []*artifact
	for _, arch := range sortedArches(arches) {
		dir, err := w.tempDir()
		if err != nil {
			return nil, err
		}
		if cfg.Package == "image" {
			a, err := w.projectImage(ctx, acct, src, cfg, arch, dir, o)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
			continue
		}
		res, err := dist.Produce(ctx, src.Path, dist.Options{Config: cfg, Arch: arch, Package: "zip", OutDir: dir, Log: o.BuildLog, Env: o.BuildEnv})
		if err != nil {
			return nil, fmt.Errorf("building %s for %s: %w", src.Path, arch, err)
		}
		data, err := os.ReadFile(res.Zip.Path)
		if err != nil {
			return nil, err
		}
		a, err := zipArtifact(src, src.Path, data, []settings.Arch{arch})
		if err != nil {
			return nil, err
		}
		a.sizes = append(a.sizes, verify.Artifact{Name: "bootstrap", Arch: arch, Bytes: res.Bootstrap.Bytes})
		out = append(out, a)
	}
	return out, nil
}

// zipArtifact checks a deployment zip: it fits a direct upload, and its
// bootstrap is built for the architecture asked for (none: whatever it
// is built for).
func zipArtifact(src Source, shown string, data []byte, want []settings.Arch) (*artifact, error) {
	if len(data) > MaxZipUpload {
		return nil, &TooLargeError{Path: shown, Bytes: int64(len(data))}
	}
	arch, err := zipArch(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	if len(want) > 0 && (len(want) > 1 || want[0] != arch) {
		others := slices.DeleteFunc(slices.Clone(want), func(a settings.Arch) bool { return a == arch })
		if len(others) > 0 {
			return nil, fmt.Errorf("%s holds a %s bootstrap, which cannot run as %s: pass the project to build each architecture", shown, arch, others[0])
		}
	}
	return &artifact{
		source: src,
		arch:   arch,
		code:   code{zip: data},
		sizes:  []verify.Artifact{{Name: "zip", Arch: arch, Bytes: int64(len(data))}},
	}, nil
}

// zipArch is the architecture of the bootstrap at a zip's top level.
func zipArch(data []byte) (settings.Arch, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", fmt.Errorf("not a valid zip: %v", err)
	}
	for _, f := range zr.File {
		if f.Name != settings.Handler {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return "", err
		}
		defer rc.Close()
		var head [20]byte
		if _, err := io.ReadFull(rc, head[:]); err != nil || !bytes.HasPrefix(head[:], []byte("\x7fELF")) {
			return "", errors.New("its bootstrap is not an ELF executable: Lambda's custom runtime runs a Linux binary")
		}
		machine := binary.LittleEndian.Uint16(head[18:20])
		for _, a := range []settings.Arch{settings.ARM64, settings.X86_64} {
			if uint16(a.ELFMachine()) == machine {
				return a, nil
			}
		}
		return "", fmt.Errorf("its bootstrap is built for ELF machine %d, which Lambda does not run", machine)
	}
	return "", fmt.Errorf("no %s at the zip's top level: Lambda's custom runtime runs /var/task/bootstrap", settings.Handler)
}
