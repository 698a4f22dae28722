package buildcmd

import (
	"context"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/templates"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// What `fnopt new` generates, `fnopt build` builds: each Go template for
// arm64 (fnopt.yaml's default), as a zip and an image, and the bootstrap
// answers an invocation under qemu-aarch64-static.
func TestBuildGoTemplates(t *testing.T) {
	for _, client := range []string{"minimal", "official"} {
		t.Run(client, func(t *testing.T) {
			files, err := templates.Render(templates.Options{
				Name: "hello", Lang: "go", Event: "raw", Arch: "arm64", Package: "image", Client: config.Client(client),
			})
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "hello")
			if err := templates.Write(context.Background(), dir, files); err != nil {
				t.Fatal(err)
			}
			// fnopt.yaml says package: image, so no flag is needed.
			r := buildJSON(t, dir)
			if r.Arch != "arm64" || r.Image == nil || r.Image.Platform != "linux/arm64" {
				t.Fatalf("report %+v", r)
			}
			invokeUnderQemu(t, r.Bootstrap.Path, `{"name":"fnopt"}`, `{"message":"Hello, fnopt!"}`)
		})
	}
}

// invokeUnderQemu runs an arm64 bootstrap against the Runtime API
// emulator and checks its answer to one event.
func invokeUnderQemu(t *testing.T, bootstrap, event, want string) {
	t.Helper()
	argv := []string{bootstrap}
	if settings.HostArch() != settings.ARM64 {
		argv = []string{testenv.LookPath(t, "qemu-aarch64-static", "qemu-user-static"), bootstrap}
	}
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "hello", MemoryMB: 128, Timeout: 10 * time.Second})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(ts.URL, "http://"), "AWS_LAMBDA_FUNCTION_NAME=hello"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	res, err := srv.Invoke(ctx, []byte(event))
	if err != nil {
		t.Fatalf("Invoke: %v\n%s", err, stderr.String())
	}
	if res.Error != nil || strings.TrimSpace(string(res.Body)) != want {
		t.Errorf("answer %q (error %v), want %s\n%s", res.Body, res.Error, want, stderr.String())
	}
}
