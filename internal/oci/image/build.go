package image

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// The image layout. The bootstrap goes where Lambda's provided.al2023
// base image keeps a custom runtime's bootstrap ($LAMBDA_RUNTIME_DIR):
// that image's /lambda-entrypoint.sh execs /var/runtime/bootstrap, so an
// fnopt image on that base (or minimised from one) keeps the layout AWS
// documents, and tools that know it (the runtime interface emulator,
// fnopt optimize image) find the function. The entrypoint names the
// bootstrap directly: no shell script, nothing else has to be in the
// image.
const (
	TaskRoot      = "/var/task"
	RuntimeDir    = "/var/runtime"
	BootstrapPath = RuntimeDir + "/" + settings.Handler
	// CACertsPath is Debian's bundle path, the first one Go's crypto/x509
	// and rustls-native-certs/openssl-probe try.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// CABundlePath is where Amazon Linux 2023 keeps its bundle; the image
	// has it as a symlink to CACertsPath for code that hard-codes it.
	CABundlePath = "/etc/pki/tls/certs/ca-bundle.crt"
	// DefaultPath is the PATH of an image without a base (that of the
	// AWS base images without their language folder).
	DefaultPath = "/usr/local/bin:/usr/bin:/bin:/opt/bin"
)

// Labels fnopt writes. Build sets the dev.fnopt ones; the caller passes
// source and settings in BuildOptions.Labels under LabelSource and
// LabelSettings.
const (
	LabelSource     = "org.opencontainers.image.source"
	LabelSettings   = "dev.fnopt.settings"
	LabelRuntime    = "dev.fnopt.runtime"
	LabelArch       = "dev.fnopt.arch"
	LabelBootstrap  = "dev.fnopt.bootstrap.sha256"
	LabelCACerts    = "dev.fnopt.ca-certs"
	LabelBaseDigest = "org.opencontainers.image.base.digest"
)

// BuildOptions describe the image Build assembles.
type BuildOptions struct {
	// Bootstrap is the host path of the function's executable.
	Bootstrap string
	// Arch is the function's architecture; the bootstrap (when an ELF
	// file) and the base must be for it.
	Arch settings.Arch
	// Base is the image to put the function on; nil means none
	// (scratch). Load it with Platform PlatformOf(Arch) so that an index
	// gives the right image.
	Base v1.Image
	// CACerts adds the host's CA bundle (HostCACerts) to the image.
	CACerts bool
	// CACertsFile overrides where the CA bundle is read from.
	CACertsFile string
	// Labels are added to the image config; they override Build's own.
	Labels map[string]string
	// Created is the image's creation time and the time of every file in
	// its layers. Use SourceDateEpoch; zero gives the zero time in the
	// config and the Unix epoch in the layers.
	Created time.Time
}

// HostCACerts is where Build reads the CA bundle (Debian's
// ca-certificates package).
const HostCACerts = "/etc/ssl/certs/ca-certificates.crt"

// SourceDateEpoch reads the SOURCE_DATE_EPOCH environment variable
// (reproducible-builds.org): the time as Unix seconds, or the zero time
// when it is not set.
func SourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a non-negative number of seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// Build assembles a Lambda container image for a custom-runtime
// function: one layer with the CA bundle (unless CACerts is false; it
// changes rarely, so registries and Lambda share it between functions),
// and one with the bootstrap at BootstrapPath, on Base or on nothing.
// The result is a single-platform image (never an index), gzip layers
// with every parent folder present, and the same digest for the same
// inputs.
func Build(ctx context.Context, o BuildOptions) (v1.Image, error) {
	if o.Arch != settings.ARM64 && o.Arch != settings.X86_64 {
		return nil, fmt.Errorf("building image: architecture %q: use arm64 or x86_64", o.Arch)
	}
	boot, err := inspectBootstrap(o.Bootstrap, o.Arch)
	if err != nil {
		return nil, err
	}
	mtime := time.Unix(0, 0).UTC()
	if !o.Created.IsZero() {
		mtime = o.Created.UTC().Truncate(time.Second)
	}

	base, layerType, err := baseImage(o.Base, o.Arch)
	if err != nil {
		return nil, err
	}
	cfg, err := base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("building image: reading base config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = o.Arch.GOARCH()
	cfg.Variant = "" // arm64 has one variant (v8); Lambda reads only the architecture
	cfg.Config.Entrypoint = []string{BootstrapPath}
	cfg.Config.Cmd = nil
	cfg.Config.WorkingDir = TaskRoot
	cfg.Config.Env = mergeEnv(cfg.Config.Env)
	labels := map[string]string{
		LabelRuntime:   settings.Runtime,
		LabelArch:      string(o.Arch),
		LabelBootstrap: boot.sha256,
		LabelCACerts:   strconv.FormatBool(o.CACerts),
	}
	if o.Base != nil {
		d, err := o.Base.Digest()
		if err != nil {
			return nil, fmt.Errorf("building image: base digest: %w", err)
		}
		labels[LabelBaseDigest] = d.String()
	}
	if cfg.Config.Labels == nil {
		cfg.Config.Labels = map[string]string{}
	}
	for k, v := range labels {
		cfg.Config.Labels[k] = v
	}
	for k, v := range o.Labels {
		cfg.Config.Labels[k] = v
	}
	img, err := mutate.ConfigFile(base, cfg)
	if err != nil {
		return nil, fmt.Errorf("building image: %w", err)
	}

	var adds []mutate.Addendum
	if o.CACerts {
		spec, err := caCertsLayer(o.CACertsFile, mtime)
		if err != nil {
			return nil, err
		}
		l, err := spec.layer(layerType)
		if err != nil {
			return nil, fmt.Errorf("building image: CA certificates %w", err)
		}
		adds = append(adds, addendum(l, "fnopt build: CA certificates", o.Created))
	}
	fn := layerSpec{mtime: mtime, entries: []fileEntry{
		{name: "/tmp", typ: tar.TypeDir, mode: 0o1777},
		{name: TaskRoot, typ: tar.TypeDir, mode: 0o755},
		{name: RuntimeDir, typ: tar.TypeDir, mode: 0o755},
		{name: BootstrapPath, typ: tar.TypeReg, mode: 0o755, src: o.Bootstrap, size: boot.size},
	}}
	l, err := fn.layer(layerType)
	if err != nil {
		return nil, fmt.Errorf("building image: bootstrap %w", err)
	}
	adds = append(adds, addendum(l, "fnopt build: bootstrap", o.Created))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	img, err = mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("building image: %w", err)
	}
	img, err = mutate.CreatedAt(img, v1.Time{Time: o.Created.UTC().Truncate(time.Second)})
	if err != nil {
		return nil, fmt.Errorf("building image: %w", err)
	}
	return img, nil
}

func addendum(l v1.Layer, by string, created time.Time) mutate.Addendum {
	return mutate.Addendum{Layer: l, History: v1.History{
		Created:   v1.Time{Time: created.UTC().Truncate(time.Second)},
		CreatedBy: by,
	}}
}

// baseImage returns the image to build on and the layer media type that
// matches its manifest (Docker layers in a Docker manifest, OCI in OCI).
func baseImage(base v1.Image, arch settings.Arch) (v1.Image, types.MediaType, error) {
	if base == nil {
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		return img, types.OCILayer, nil
	}
	cf, err := base.ConfigFile()
	if err != nil {
		return nil, "", fmt.Errorf("building image: reading base config: %w", err)
	}
	if cf.OS != "linux" || cf.Architecture != arch.GOARCH() {
		return nil, "", fmt.Errorf("building image: the base is %s/%s, the function %s: use a base for linux/%s", cf.OS, cf.Architecture, arch, arch.GOARCH())
	}
	mt, err := base.MediaType()
	if err != nil {
		return nil, "", fmt.Errorf("building image: base media type: %w", err)
	}
	switch mt {
	case types.OCIManifestSchema1:
		return base, types.OCILayer, nil
	case types.DockerManifestSchema2:
		return base, types.DockerLayer, nil
	}
	return nil, "", fmt.Errorf("building image: the base's manifest is %s; Lambda accepts only OCI or Docker v2 schema 2 manifests", mt)
}

// mergeEnv sets the Lambda variables in env, keeps the rest, and adds
// PATH when env has none.
func mergeEnv(env []string) []string {
	set := []struct{ k, v string }{
		{"LAMBDA_TASK_ROOT", TaskRoot},
		{"LAMBDA_RUNTIME_DIR", RuntimeDir},
	}
	out := append([]string(nil), env...)
	hasPath := false
	for _, e := range out {
		if strings.HasPrefix(e, "PATH=") {
			hasPath = true
		}
	}
	if !hasPath {
		out = append(out, "PATH="+DefaultPath)
	}
	for _, kv := range set {
		found := false
		for i, e := range out {
			if strings.HasPrefix(e, kv.k+"=") {
				out[i] = kv.k + "=" + kv.v
				found = true
			}
		}
		if !found {
			out = append(out, kv.k+"="+kv.v)
		}
	}
	return out
}

type bootstrapInfo struct {
	size   int64
	sha256 string
}

// inspectBootstrap checks that path is an executable for arch (an ELF
// file for the right machine, or a #! script) and hashes it.
func inspectBootstrap(path string, arch settings.Arch) (bootstrapInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return bootstrapInfo{}, fmt.Errorf("building image: bootstrap: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return bootstrapInfo{}, fmt.Errorf("building image: bootstrap: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return bootstrapInfo{}, fmt.Errorf("building image: bootstrap %s is not a non-empty regular file", path)
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil {
		return bootstrapInfo{}, fmt.Errorf("building image: bootstrap %s: too short to be an executable", path)
	}
	switch {
	case string(head) == elf.ELFMAG:
		ef, err := elf.NewFile(f)
		if err != nil {
			return bootstrapInfo{}, fmt.Errorf("building image: bootstrap %s: %w", path, err)
		}
		if ef.Machine != arch.ELFMachine() {
			return bootstrapInfo{}, fmt.Errorf("building image: bootstrap %s is built for %s, the image is %s: rebuild it for %s", path, machineName(ef.Machine), arch, arch)
		}
	case string(head[:2]) == "#!":
	default:
		return bootstrapInfo{}, fmt.Errorf("building image: bootstrap %s is neither an ELF executable nor a #! script", path)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return bootstrapInfo{}, fmt.Errorf("building image: bootstrap: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return bootstrapInfo{}, fmt.Errorf("building image: reading bootstrap: %w", err)
	}
	return bootstrapInfo{size: n, sha256: hex.EncodeToString(h.Sum(nil))}, nil
}

// caCertsLayer holds the CA bundle at CACertsPath and the Amazon Linux
// path as a relative symlink to it (relative, so that it also resolves
// in an unpacked root folder).
func caCertsLayer(file string, mtime time.Time) (layerSpec, error) {
	if file == "" {
		file = HostCACerts
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return layerSpec{}, fmt.Errorf("building image: reading CA certificates: %w; install Debian's ca-certificates or build without them (--no-ca-certs)", err)
	}
	return layerSpec{mtime: mtime, entries: []fileEntry{
		{name: CACertsPath, typ: tar.TypeReg, mode: 0o644, data: data},
		{name: CABundlePath, typ: tar.TypeSymlink, mode: 0o777, link: "../../../ssl/certs/ca-certificates.crt"},
	}}, nil
}

// machineName names an ELF machine as Lambda names architectures.
func machineName(m elf.Machine) string {
	switch m {
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_X86_64:
		return "x86_64"
	}
	return m.String()
}
