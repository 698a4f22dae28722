package build

import (
	"bytes"
	"context"
	"debug/elf"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// An arm64 bootstrap, built on any host, is an AArch64 ELF that answers
// an invocation from the Runtime API emulator when run under qemu's user
// mode emulation (on an arm64 host it runs natively).
func TestArm64BootstrapAnswersUnderQemu(t *testing.T) {
	dir := t.TempDir()
	testenv.WriteFiles(t, dir, map[string]string{"go.mod": goMod, "main.go": goFunction})
	var log bytes.Buffer
	res, err := Build(context.Background(), dir, goConfig(settings.ARM64), Options{Log: &log})
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, log.String())
	}
	f, err := elf.Open(res.Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	machine, class := f.Machine, f.Class
	f.Close()
	if machine != elf.EM_AARCH64 || class != elf.ELFCLASS64 {
		t.Fatalf("bootstrap is %v %v, want EM_AARCH64 ELFCLASS64", machine, class)
	}

	argv := []string{res.Bootstrap}
	if settings.HostArch() != settings.ARM64 {
		argv = []string{testenv.LookPath(t, "qemu-aarch64-static", "qemu-user-static"), res.Bootstrap}
	}

	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "fn", MemoryMB: 128, Timeout: 10 * time.Second})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(ts.URL, "http://")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	if _, err := srv.WaitNext(ctx); err != nil {
		t.Fatalf("the function never asked for an event: %v\n%s", err, stderr.String())
	}
	got, err := srv.Invoke(ctx, []byte(`{"hello":"qemu"}`))
	if err != nil {
		t.Fatalf("Invoke: %v\n%s", err, stderr.String())
	}
	if got.Error != nil {
		t.Fatalf("function error: %v", got.Error)
	}
	if want := `{"hello":"qemu"}`; string(got.Body) != want {
		t.Errorf("response %q, want %q", got.Body, want)
	}
}
