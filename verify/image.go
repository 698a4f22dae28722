package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/verify/sandbox"
)

// IsImageRef reports whether a TARGET argument names an image rather than
// a path: oci:DIR[:TAG], tar:FILE, or a registry reference with an
// explicit registry host (registry.example.com/fn:v1, localhost:5000/fn)
// that is not an existing path. A bare "dist/bootstrap" that does not
// exist is a mistyped path, not an image on Docker Hub.
func IsImageRef(s string) bool {
	if strings.HasPrefix(s, "oci:") || strings.HasPrefix(s, "tar:") {
		return true
	}
	if _, err := os.Lstat(s); err == nil {
		return false
	}
	host, _, ok := strings.Cut(s, "/")
	if !ok || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return false
	}
	_, err := image.ParseRef(s)
	return err == nil
}

// maxColdCacheFiles bounds how many of an image's files --cold-cache
// evicts before each sample.
const maxColdCacheFiles = 10000

// PrepareImage loads the image ref names for this machine's architecture,
// flattens its layers into a temporary root file system (safely: see
// internal/oci/rootfs) and runs its entrypoint and cmd in the sandbox, as Lambda
// runs a container image function.
func PrepareImage(ctx context.Context, refStr string, o PrepareOptions) (*Target, error) {
	ref, err := image.ParseRef(refStr)
	if err != nil {
		return nil, err
	}
	host := settings.HostArch()
	// No explicit platform: from an index Load picks this machine's, and
	// a single image loads whatever its architecture, so that one built
	// for another is told apart below (ImageArchError, which commands
	// complete with how to build one for this machine) rather than as a
	// platform mismatch. Load's errors name the reference already.
	img, err := image.Load(ctx, ref, image.LoadOptions{Insecure: o.Insecure})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the configuration of %s: %w", refStr, err)
	}
	if cf.Architecture != "" && cf.Architecture != host.GOARCH() {
		return nil, &ImageArchError{Image: refStr, Arch: cf.Architecture, Host: host}
	}
	// Before anything is unpacked: this machine may not run images at
	// all. (Loading is lazy: only the manifest and config were read.)
	if err := sandbox.Supported(); err != nil {
		return nil, fmt.Errorf("image %s: %w", refStr, err)
	}
	argv := append(append([]string(nil), cf.Config.Entrypoint...), cf.Config.Cmd...)
	if len(argv) == 0 {
		return nil, fmt.Errorf("image %s has no entrypoint or cmd: Lambda needs one to start the function", refStr)
	}
	t := &Target{Name: refStr, Arch: host}
	root, err := t.tempDir("fnopt-verify-rootfs-")
	if err != nil {
		return nil, err
	}
	rep, err := rootfs.Flatten(ctx, img, root, rootfs.Limits{})
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("flattening %s: %w", refStr, err)
	}
	if rep.SkippedCount > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("%d unsafe layer entries were left out of the root file system (first: %s: %s)",
			rep.SkippedCount, rep.Skipped[0].Name, rep.Skipped[0].Reason))
	}
	compressed, err := layersSize(img)
	if err != nil {
		t.Close()
		return nil, fmt.Errorf("reading the layers of %s: %w", refStr, err)
	}
	t.Artifacts = []Artifact{
		{Name: "image_compressed", Arch: host, Bytes: compressed},
		{Name: "image_unpacked", Arch: host, Bytes: rep.Bytes},
	}
	workDir := cf.Config.WorkingDir
	if workDir == "" {
		workDir = "/"
	}
	handler := ""
	if len(cf.Config.Cmd) > 0 {
		handler = cf.Config.Cmd[0]
	}
	t.TaskRoot = "/var/task"
	t.Starter = &sandboxStarter{root: root, argv: argv, workDir: workDir, imageEnv: cf.Config.Env, handler: handler}
	if t.Files, err = regularFiles(root, maxColdCacheFiles); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func layersSize(img v1.Image) (int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, l := range layers {
		s, err := l.Size()
		if err != nil {
			return 0, err
		}
		n += s
	}
	return n, nil
}

func regularFiles(root string, max int) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
			if len(files) >= max {
				return filepath.SkipAll
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the image's files: %w", err)
	}
	return files, nil
}

// sandboxStarter starts an image's entrypoint in verify/sandbox.
type sandboxStarter struct {
	root     string
	argv     []string
	workDir  string
	imageEnv []string
	handler  string
}

// imageOverridable are the Lambda variables an image's own ENV may set
// (Lambda documents them as not reserved); every other Lambda variable
// wins over the image's.
var imageOverridable = map[string]bool{"PATH": true, "LANG": true, "LD_LIBRARY_PATH": true}

func (s *sandboxStarter) Start(ctx context.Context, spec StartSpec) (Process, error) {
	if spec.Listener != nil {
		return nil, errors.New("an image function can only be reached inside its sandbox, not on a listener of the caller's")
	}
	env := append(s.env(spec), "AWS_LAMBDA_RUNTIME_API="+sandbox.ListenAddr)
	p, err := sandbox.Start(ctx, sandbox.Spec{
		Root:        s.root,
		Argv:        s.argv,
		Env:         env,
		WorkDir:     s.workDir,
		MemoryBytes: spec.MemoryBytes,
		Stderr:      spec.Output,
		Stdout:      spec.Output,
	})
	if err != nil {
		return nil, err
	}
	return &sandboxProcess{p: p, limited: spec.MemoryBytes > 0}, nil
}

// env is the function's environment in the image (ImageEnv).
func (s *sandboxStarter) env(spec StartSpec) []string {
	return ImageEnv(s.imageEnv, s.handler, spec)
}

// ImageEnv is a container image function's environment for one start:
// Lambda's variables over the image's ENV (MergeImageEnv), and the
// function's own variables (spec.FunctionEnv) over both, as a function's
// configuration wins over its image's ENV on Lambda, PATH and LANG
// included. Every starter of an image's entrypoint uses it.
func ImageEnv(imageEnv []string, handler string, spec StartSpec) []string {
	return overlay(MergeImageEnv(imageEnv, spec.Env, handler), spec.FunctionEnv)
}

// MergeImageEnv is the image's ENV overlaid with Lambda's variables, as
// Lambda builds a container function's environment: Lambda's values win,
// except for the few an image may set (imageOverridable); _HANDLER is the
// image's CMD[0] when it has one.
func MergeImageEnv(imageEnv, lambdaEnv []string, handler string) []string {
	vars := map[string]string{}
	var order []string
	put := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, kv := range imageEnv {
		k, v, _ := strings.Cut(kv, "=")
		put(k, v)
	}
	fromImage := func(k string) bool { _, ok := vars[k]; return ok }
	for _, kv := range lambdaEnv {
		k, v, _ := strings.Cut(kv, "=")
		if imageOverridable[k] && fromImage(k) {
			continue
		}
		put(k, v)
	}
	if handler != "" {
		put("_HANDLER", handler)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out
}

type sandboxProcess struct {
	p       *sandbox.Process
	limited bool // a memory limit was asked for
}

func (s *sandboxProcess) Listener() net.Listener { return s.p.Listener }
func (s *sandboxProcess) Started() time.Time     { return s.p.Started }
func (s *sandboxProcess) Wait() error            { return s.p.Wait() }
func (s *sandboxProcess) Kill() error            { return s.p.Kill() }
func (s *sandboxProcess) MaxRSS() int64          { return s.p.MaxRSS() }
func (s *sandboxProcess) Notes() []string        { return nil }

func (s *sandboxProcess) memoryLimit() (bool, string) {
	if !s.limited {
		return false, ""
	}
	if s.p.MemoryEnforced {
		return true, ""
	}
	return false, s.p.MemoryNote
}

// ImageArchError is an image built for another architecture than this
// machine's: the sandbox runs images natively, so it cannot be measured
// here.
type ImageArchError struct {
	Image string        // the reference as given
	Arch  string        // the image's architecture (GOARCH spelling)
	Host  settings.Arch // this machine's
}

func (e *ImageArchError) Error() string {
	return fmt.Sprintf("image %s is for %s and this machine is %s: verify runs images of this machine's architecture", e.Image, e.Arch, e.Host)
}
