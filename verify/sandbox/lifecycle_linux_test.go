package sandbox

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/internal/testenv"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// envOrphan makes the test binary a fnopt stand-in that starts a sandbox,
// prints the init's PID and then waits to be killed.
const envOrphan = "FNOPT_SANDBOX_TEST_ORPHAN_ROOT"

// maybeRunOrphanHelper is called by TestMain; a plain test run never sets
// envOrphan.
func maybeRunOrphanHelper() {
	if root := os.Getenv(envOrphan); root != "" {
		p, err := Start(context.Background(), Spec{Root: root, Argv: []string{"/var/task/bootstrap", "sleep"}})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(p.Pid, p.tmp)
		select {}
	}
}

func TestSandboxDiesWithItsParent(t *testing.T) {
	testenv.RequireRoot(t)
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), envOrphan+"="+goRoot(t))
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	pidStr, tmp, _ := strings.Cut(strings.TrimSpace(line), " ")
	initPid, perr := strconv.Atoi(pidStr)
	if err != nil || perr != nil || !strings.Contains(tmp, "fnopt-sandbox-") {
		t.Fatalf("helper said %q (%v)", line, err)
	}
	// A killed fnopt cannot remove its sandbox folder; the test does.
	t.Cleanup(func() { os.RemoveAll(tmp) })
	fnPids := descendants(initPid)
	if len(fnPids) == 0 {
		t.Fatal("the sandbox has no function process")
	}
	helper.Process.Kill()
	helper.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range append(fnPids, initPid) {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d outlived the process that started the sandbox", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// alive reports whether pid runs (a zombie waiting for its reaper is dead).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// TestFlattenedImageRuns goes the whole way verify goes: an image whose
// libraries sit behind a symlinked directory, flattened by internal/oci/rootfs,
// run in the sandbox.
func TestFlattenedImageRuns(t *testing.T) {
	testenv.RequireRoot(t)
	src := cRoot(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == src {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "lib" {
			return nil // the symlink of the lower layer stands for it
		}
		// The loader and libc go under usr/lib-real, reached through a
		// "lib" → "usr/lib-real" symlink layer below.
		name := rel
		if strings.HasPrefix(rel, "lib/") {
			name = "usr/lib-real/" + strings.TrimPrefix(rel, "lib/")
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = name
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	var links bytes.Buffer
	lw := tar.NewWriter(&links)
	lw.WriteHeader(&tar.Header{Name: "lib", Typeflag: tar.TypeSymlink, Linkname: "usr/lib-real", Mode: 0o777})
	lw.Close()
	var layers []v1.Layer
	for _, b := range [][]byte{links.Bytes(), buf.Bytes()} {
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	rep, err := rootfs.Flatten(context.Background(), img, root, rootfs.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SkippedCount != 0 {
		t.Fatalf("skipped %+v", rep.Skipped)
	}
	var out, stderr bytes.Buffer
	p := start(t, Spec{Root: root, Argv: []string{"/usr/bin/cfn", "3"}, Stdout: &out, Stderr: &stderr})
	if err := p.Wait(); err == nil || !strings.Contains(err.Error(), "status 3") {
		t.Fatalf("Wait = %v, want exit status 3 (output %q, stderr %q)", err, out.String(), stderr.String())
	}
	if _, ok := monoOf(out.String()); !ok {
		t.Fatalf("output %q", out.String())
	}
}
