package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/registrytest"
	"github.com/fnopt/fnopt/internal/testenv"
)

// built is one image per architecture, shared by the round-trip tests.
var built struct {
	sync.Mutex
	imgs map[settings.Arch]v1.Image
}

func builtImage(t testing.TB, arch settings.Arch) v1.Image {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if img := built.imgs[arch]; img != nil {
		return img
	}
	img, err := Build(context.Background(), BuildOptions{Bootstrap: bootstrap(t, arch), Arch: arch, CACerts: true})
	if err != nil {
		t.Fatal(err)
	}
	if built.imgs == nil {
		built.imgs = map[settings.Arch]v1.Image{}
	}
	built.imgs[arch] = img
	return img
}

func mustRef(t testing.TB, s string) Ref {
	t.Helper()
	r, err := ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sameContent compares config and layers: a tarball keeps them but
// stores a Docker manifest, so the manifest digest may differ.
func sameContent(t testing.TB, a, b v1.Image) {
	t.Helper()
	ca, _ := a.ConfigName()
	cb, _ := b.ConfigName()
	if ca != cb {
		t.Errorf("config %s, want %s", cb, ca)
	}
	la, _ := a.Layers()
	lb, _ := b.Layers()
	if len(la) != len(lb) {
		t.Fatalf("%d layers, want %d", len(lb), len(la))
	}
	for i := range la {
		da, _ := la[i].Digest()
		db, _ := lb[i].Digest()
		if da != db {
			t.Errorf("layer %d: %s, want %s", i, db, da)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	img := builtImage(t, settings.ARM64)
	want := digest(t, img)
	dir := t.TempDir()
	inproc := registrytest.InProcess(t)
	real := registrytest.Start(t)
	for _, tc := range []struct {
		name      string
		dst, src  string
		sameBytes bool // the manifest is kept as it is
	}{
		{"oci with tag", "oci:" + dir + "/a:v1", "oci:" + dir + "/a:v1", true},
		{"oci default tag", "oci:" + dir + "/b", "oci:" + dir + "/b:" + DefaultLayoutTag, true},
		{"oci without tag reads the only image", "oci:" + dir + "/c:v2", "oci:" + dir + "/c", true},
		{"tarball", "tar:" + dir + "/fn.tar", "tar:" + dir + "/fn.tar", false},
		{"in-process registry", inproc + "/fn:v1", inproc + "/fn:v1", true},
		{"docker-registry", real + "/team/fn:v1", real + "/team/fn:v1", true},
		{"docker-registry by digest", real + "/team/fn2:v1", real + "/team/fn2@" + want.String(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Write(ctx, img, mustRef(t, tc.dst), WriteOptions{Insecure: true}); err != nil {
				t.Fatal(err)
			}
			got, err := Load(ctx, mustRef(t, tc.src), LoadOptions{Platform: PlatformOf(settings.ARM64), Insecure: true})
			if err != nil {
				t.Fatal(err)
			}
			if tc.sameBytes && digest(t, got) != want {
				t.Errorf("digest %s, want %s", digest(t, got), want)
			}
			sameContent(t, img, got)
			if vs := Check(got); len(vs) > 0 {
				t.Errorf("check after the round trip: %v", vs)
			}
		})
	}
}

func TestWriteRefusesExisting(t *testing.T) {
	ctx := context.Background()
	img := builtImage(t, settings.ARM64)
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "keep"), []byte("mine"), 0o644)
	file := filepath.Join(dir, "fn.tar")
	os.WriteFile(file, []byte("mine"), 0o644)
	for _, dst := range []string{"oci:" + full, "oci:" + file, "tar:" + file, "tar:" + full} {
		t.Run(dst, func(t *testing.T) {
			err := Write(ctx, img, mustRef(t, dst), WriteOptions{})
			if err == nil || !strings.Contains(err.Error(), "exists") {
				t.Fatalf("got %v, want an error saying it exists", err)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(full, "keep")); string(b) != "mine" {
		t.Errorf("existing folder changed")
	}
	if b, _ := os.ReadFile(file); string(b) != "mine" {
		t.Errorf("existing file changed")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left: %v", entries)
	}
	// An empty folder is taken.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if err := Write(ctx, img, mustRef(t, "oci:"+empty), WriteOptions{}); err != nil {
		t.Fatalf("writing into an empty folder: %v", err)
	}
}

func TestRegistryErrors(t *testing.T) {
	ctx := context.Background()
	img := builtImage(t, settings.ARM64)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	host := registrytest.InProcess(t)
	// A registry that wants credentials fnopt does not have.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	locked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="fnopt-test"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(locked.Close)
	lockedHost := strings.TrimPrefix(locked.URL, "http://")
	silent := silentListener(t)
	// Registries that answer the ping and then go silent: before
	// answering, or in the middle of an answer.
	afterPing := stallingRegistry(t, false)
	midAnswer := stallingRegistry(t, true)
	// The silent registry is given a short deadline; DefaultRegistryTimeout
	// is the same code with a longer one.
	const timeout = 300 * time.Millisecond
	var (
		plainHTTP *PlainHTTPError
		notLocal  *InsecureHostError
		quiet     *SilentRegistryError
	)
	for _, tc := range []struct {
		name     string
		ref      string
		insecure bool
		want     string
		typed    any // a pointer to the error type wanted, or nil
	}{
		{"nothing listens", closed + "/fn:v1", true, "cannot reach registry " + closed + " (connection refused)", nil},
		// ggcr tries HTTPS, then plain HTTP (refused without insecure):
		// the refused connection is what happened.
		{"nothing listens, plain HTTP not allowed", closed + "/fn:v1", false, "cannot reach registry " + closed + " (connection refused)", nil},
		{"silent", silent + "/fn:v1", true, "registry " + silent + " accepted the connection, then sent nothing for 300ms", &quiet},
		{"silent, plain HTTP not allowed", silent + "/fn:v1", false, "then sent nothing for 300ms", &quiet},
		{"silent after the ping", afterPing + "/fn:v1", true, "registry " + afterPing + " accepted the connection, then sent nothing for 300ms", &quiet},
		{"silent in the middle of an answer", midAnswer + "/fn:v1", true, "registry " + midAnswer + " accepted the connection, then sent nothing for 300ms", &quiet},
		{"unauthorized", lockedHost + "/fn:v1", true, "docker login " + lockedHost, nil},
		{"plain HTTP without insecure", host + "/fn:v1", false, "registry " + host + " speaks plain HTTP, not HTTPS, and plain HTTP was not allowed", &plainHTTP},
		{"insecure to a remote host", "registry.example.com/fn:v1", true, "registry.example.com is not one: use HTTPS", &notLocal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for op, do := range map[string]func() error{
				"write": func() error {
					return Write(ctx, img, mustRef(t, tc.ref), WriteOptions{Insecure: tc.insecure, Timeout: timeout})
				},
				"load": func() error {
					_, err := Load(ctx, mustRef(t, tc.ref), LoadOptions{Insecure: tc.insecure, Timeout: timeout})
					return err
				},
			} {
				err := returnsWithin(t, do)
				t.Logf("%s: %v", op, err)
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s: got %v, want one line containing %q", op, err, tc.want)
				}
				if strings.Contains(fmt.Sprint(err), "--") {
					t.Errorf("%s: %v names a flag: commands add them", op, err)
				}
				if tc.typed != nil && !errors.As(err, tc.typed) {
					t.Errorf("%s: %T, want %T", op, err, tc.typed)
				}
				if tc.typed == nil && (errors.As(err, &plainHTTP) || errors.As(err, &quiet)) {
					t.Errorf("%s: %T says more than happened", op, err)
				}
			}
		})
	}
	t.Run("not found", func(t *testing.T) {
		_, err := Load(ctx, mustRef(t, host+"/nothing:here"), LoadOptions{Insecure: true})
		if err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("got %v", err)
		}
	})
}

// silentListener is a registry that accepts connections and never
// answers; it returns its host:port.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never written to
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// stallingRegistry answers /v2/ as a registry does, and then never ends
// an answer: it sends nothing, or (midAnswer) the headers and a few bytes
// of a longer body. It returns its host:port.
func stallingRegistry(t *testing.T, midAnswer bool) string {
	t.Helper()
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
			return
		case midAnswer && r.Method == http.MethodHead:
			// Nothing there yet: the client goes on to send (push) or
			// fetch (pull), and gets half an answer.
			w.WriteHeader(http.StatusNotFound)
			return
		case midAnswer:
			w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte(`{"schemaVersion":`))
			w.(http.Flusher).Flush()
		}
		<-stop
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: the handlers return
	return strings.TrimPrefix(srv.URL, "http://")
}

// returnsWithin runs do and fails the test when it has not returned after
// a minute: a hang ends the test instead of the test binary's timeout.
func returnsWithin(t *testing.T, do func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- do() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(time.Minute):
		t.Fatal("still waiting for the registry after a minute")
		return nil
	}
}

// baseIndex is a two-platform base image: each platform has a marker
// file and its own env.
func baseIndex(t testing.TB) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img := imageOf(t, arch, v1.Config{Env: []string{"PATH=/base/bin", "BASE=" + arch}, Labels: map[string]string{"base": arch}},
			gzipLayer(t, types.OCILayer, dir("etc/"), file("etc/base-"+arch, 0o644, []byte(arch))))
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

func TestBaseFromIndex(t *testing.T) {
	ctx := context.Background()
	idx := baseIndex(t)
	dir := t.TempDir()
	// The index as a whole layout (index.json lists the platforms) ...
	if _, err := layout.Write(filepath.Join(dir, "flat"), idx); err != nil {
		t.Fatal(err)
	}
	// ... as a tagged index inside a layout (as skopeo copy writes) ...
	p, err := layout.Write(filepath.Join(dir, "nested"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{RefNameAnnotation: "base"})); err != nil {
		t.Fatal(err)
	}
	// ... and in a registry.
	host := registrytest.InProcess(t)
	ref, _ := name.ParseReference(host + "/base:1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	// ... and both layouts as OCI archives (tarballs of the folder).
	tarDir(t, filepath.Join(dir, "flat"), filepath.Join(dir, "flat.tar"))
	tarDir(t, filepath.Join(dir, "nested"), filepath.Join(dir, "nested.tar"))
	for _, src := range []string{"oci:" + dir + "/flat", "oci:" + dir + "/nested:base", host + "/base:1", "tar:" + dir + "/flat.tar", "tar:" + dir + "/nested.tar"} {
		namesIndex := !strings.Contains(src, "flat") // flat layouts list images, not an index
		t.Run(src, func(t *testing.T) {
			r := mustRef(t, src)
			base, err := Load(ctx, r, LoadOptions{Platform: PlatformOf(settings.ARM64), Insecure: true})
			if err != nil {
				t.Fatal(err)
			}
			img, err := Build(ctx, BuildOptions{Bootstrap: bootstrap(t, settings.ARM64), Arch: settings.ARM64, Base: base})
			if err != nil {
				t.Fatal(err)
			}
			if vs := Check(img); len(vs) > 0 {
				t.Fatalf("check: %v", vs)
			}
			files := readFiles(t, img)
			if _, ok := files.Lookup("/etc/base-arm64"); !ok {
				t.Error("the arm64 base's file is missing")
			}
			cf, _ := img.ConfigFile()
			env := strings.Join(cf.Config.Env, " ")
			if !strings.Contains(env, "PATH=/base/bin") || !strings.Contains(env, "BASE=arm64") || !strings.Contains(env, "LAMBDA_TASK_ROOT=/var/task") {
				t.Errorf("env %q", cf.Config.Env)
			}
			if bd := digest(t, base).String(); cf.Config.Labels[LabelBaseDigest] != bd || cf.Config.Labels["base"] != "arm64" {
				t.Errorf("labels %v, want base digest %s", cf.Config.Labels, bd)
			}
			if n, _ := LayerCount(img); n != 2 {
				t.Errorf("%d layers, want 2 (base, bootstrap)", n)
			}

			_, err = Load(ctx, r, LoadOptions{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}, Insecure: true})
			var pe *PlatformError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "linux/amd64, linux/arm64") || strings.Contains(err.Error(), "--") {
				t.Errorf("unknown platform: got %v, want a PlatformError listing the platforms and naming no flag", err)
			}
			if namesIndex {
				vs, err := CheckRef(ctx, r, LoadOptions{Insecure: true})
				if err != nil || len(vs) != 1 || vs[0].Rule != RuleManifest {
					t.Errorf("CheckRef on an index: %v, %v", vs, err)
				}
			}
		})
	}
	t.Run("base for another platform", func(t *testing.T) {
		amd, err := Load(ctx, mustRef(t, "oci:"+dir+"/flat"), LoadOptions{Platform: PlatformOf(settings.X86_64)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Build(ctx, BuildOptions{Bootstrap: bootstrap(t, settings.ARM64), Arch: settings.ARM64, Base: amd})
		if err == nil || !strings.Contains(err.Error(), "linux/amd64") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("Docker base gets Docker layers", func(t *testing.T) {
		idxm, _ := idx.IndexManifest()
		base, _ := idx.Image(idxm.Manifests[1].Digest)
		base = mutate.MediaType(base, types.DockerManifestSchema2)
		base = mutate.ConfigMediaType(base, types.DockerConfigJSON)
		img, err := Build(ctx, BuildOptions{Bootstrap: bootstrap(t, settings.ARM64), Arch: settings.ARM64, Base: base})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := img.Manifest()
		if m.MediaType != types.DockerManifestSchema2 || m.Layers[len(m.Layers)-1].MediaType != types.DockerLayer {
			t.Errorf("manifest %s, last layer %s", m.MediaType, m.Layers[len(m.Layers)-1].MediaType)
		}
	})
}

// TestExternalTools cross-checks written images with skopeo and umoci.
func TestExternalTools(t *testing.T) {
	ctx := context.Background()
	skopeo := testenv.LookPath(t, "skopeo", "skopeo")
	umoci := testenv.LookPath(t, "umoci", "umoci")
	arch := settings.HostArch() // so the unpacked bootstrap can run here
	img := builtImage(t, arch)
	want := digest(t, img)
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "layout")
	tarFile := filepath.Join(dir, "fn.tar")
	if err := Write(ctx, img, mustRef(t, "oci:"+layoutDir+":fn"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, img, mustRef(t, "tar:"+tarFile), WriteOptions{Tag: "example/fn:v1"}); err != nil {
		t.Fatal(err)
	}
	host := registrytest.Start(t)
	if err := Write(ctx, img, mustRef(t, host+"/fn:v1"), WriteOptions{Insecure: true}); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) []byte {
		t.Helper()
		out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return out
	}
	for _, src := range []string{"oci:" + layoutDir + ":fn", "docker-archive:" + tarFile, "docker://" + host + "/fn:v1"} {
		t.Run("skopeo inspect "+strings.SplitN(src, ":", 2)[0], func(t *testing.T) {
			var info struct {
				Digest       string
				Architecture string
				Os           string
				RepoTags     []string
			}
			if err := json.Unmarshal(run(skopeo, "inspect", "--tls-verify=false", src), &info); err != nil {
				t.Fatal(err)
			}
			if info.Architecture != arch.GOARCH() || info.Os != "linux" {
				t.Errorf("skopeo sees %s/%s", info.Os, info.Architecture)
			}
			if !strings.HasPrefix(src, "docker-archive:") && info.Digest != want.String() {
				t.Errorf("skopeo digest %s, want %s", info.Digest, want)
			}
		})
	}
	t.Run("skopeo copy", func(t *testing.T) {
		out := filepath.Join(dir, "copy")
		run(skopeo, "--insecure-policy", "copy", "oci:"+layoutDir+":fn", "dir:"+out)
		raw, _ := img.RawManifest()
		if got, err := os.ReadFile(filepath.Join(out, "manifest.json")); err != nil || string(got) != string(raw) {
			t.Errorf("skopeo copied a different manifest (%v)", err)
		}
	})
	t.Run("skopeo copy to archives", func(t *testing.T) {
		for _, tc := range []struct {
			dst       string
			sameBytes bool
		}{
			{"oci-archive:" + dir + "/oci-archive.tar", true},
			{"docker-archive:" + dir + "/docker-archive.tar", false}, // skopeo converts the manifest
		} {
			run(skopeo, "--insecure-policy", "copy", "oci:"+layoutDir+":fn", tc.dst)
			got, err := Load(ctx, mustRef(t, "tar:"+strings.SplitN(tc.dst, ":", 2)[1]), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.sameBytes && digest(t, got) != want {
				t.Errorf("%s: digest %s, want %s", tc.dst, digest(t, got), want)
			}
			if vs := Check(got); len(vs) > 0 {
				t.Errorf("%s: %v", tc.dst, vs)
			}
		}
	})
	t.Run("umoci unpack", func(t *testing.T) {
		bundle := filepath.Join(dir, "bundle")
		args := []string{"unpack", "--image", layoutDir + ":fn", bundle}
		if os.Geteuid() != 0 {
			args = append([]string{"unpack", "--rootless"}, args[1:]...)
		}
		run(umoci, args...)
		boot := filepath.Join(bundle, "rootfs", BootstrapPath)
		fi, err := os.Stat(boot)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o755 {
			t.Errorf("bootstrap mode %v, want 0755", fi.Mode().Perm())
		}
		if got := run(boot); string(got) != "hello from the image\n" {
			t.Errorf("bootstrap printed %q", got)
		}
		if b, err := os.ReadFile(filepath.Join(bundle, "rootfs", CABundlePath)); err != nil || len(b) == 0 {
			t.Errorf("%s does not resolve in the unpacked root: %v", CABundlePath, err)
		}
	})
}

// tarDir writes the files of dir into a tar file, as an OCI archive
// holds a layout.
func tarDir(t testing.TB, dir, file string) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}
