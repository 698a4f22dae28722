package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/internal/testenv"
	"github.com/fnopt/fnopt/optimize/project"
)

// TestHostile runs the fnopt binary against hostile input, as a careless
// or hostile user would: images that try to escape their root, functions
// that misbehave, projects whose files are not what their names say, and
// interrupts at random moments. After every run it checks what fnopt
// promises: the exit status, all or nothing in the files it writes, and
// nothing left behind (no process, nothing in its temporary folder, no
// go-build* folder). The random delays come from a seed printed in the
// log; FNOPT_HOSTILE_SEED=N replays a run.
func TestHostile(t *testing.T) {
	seed := uint64(20261202)
	if s := os.Getenv("FNOPT_HOSTILE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FNOPT_HOSTILE_SEED=%q: want a number", s)
		}
		seed = n
	}
	t.Logf("random seed %d (FNOPT_HOSTILE_SEED=%d replays this run)", seed, seed)
	h := &hostile{fnopt: buildFnopt(t), fakefn: testenv.Fakefn(t), rnd: rand.New(rand.NewPCG(seed, seed))}
	t.Run("functions", h.functions)
	t.Run("images", h.images)
	t.Run("projects", h.projects)
	t.Run("source pipe", h.sourcePipe)
	t.Run("interrupts", h.interrupts)
}

type hostile struct {
	fnopt, fakefn string
	rnd           *rand.Rand
}

// result is one fnopt run.
type result struct {
	code        int
	out, errOut string
	took        time.Duration
}

// run runs fnopt with args, in its own temporary folder (TMPDIR), and,
// when interruptAfter > 0, sends it SIGINT after that long. Once it has
// exited it checks that nothing of it is left: no process naming work
// (fnopt's, a compiler's, a function's) and nothing in its TMPDIR.
func (h *hostile) run(t *testing.T, work string, interruptAfter time.Duration, args ...string) result {
	t.Helper()
	tmp, err := os.MkdirTemp(work, "tmp-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.fnopt, args...)
	cmd.Dir = work
	cmd.Env = append(goldenEnv(), "TMPDIR="+tmp)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if interruptAfter > 0 {
		timer := time.AfterFunc(interruptAfter, func() { _ = cmd.Process.Signal(os.Interrupt) })
		defer timer.Stop()
	}
	err = cmd.Wait()
	r := result{code: cmd.ProcessState.ExitCode(), out: out.String(), errOut: errOut.String(), took: time.Since(start)}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
		// SIGINT before fnopt's handler is installed (the runtime and
		// package initialisation, up to a few hundred ms on a loaded
		// machine) ends it as the signal's default does: what a shell
		// reports as 130, with nothing started.
		r.code = 130
	}
	if ctx.Err() != nil {
		t.Fatalf("fnopt %s did not end within 90 s: %v\n%s", strings.Join(args, " "), err, r.errOut)
	}
	if left := processesIn(t, work); len(left) != 0 {
		t.Errorf("fnopt %s left processes: %v", strings.Join(args, " "), left)
	}
	if left := testenv.Entries(t, tmp); len(left) != 0 {
		t.Errorf("fnopt %s left in its temporary folder: %v", strings.Join(args, " "), left)
	}
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	return r
}

// processesIn lists the live processes whose command line or working
// directory names path.
func processesIn(t *testing.T, path string) []testenv.Process {
	t.Helper()
	var out []testenv.Process
	for _, p := range testenv.Processes(t) {
		if p.State != 'Z' && (strings.Contains(p.Cmdline, path) || strings.HasPrefix(p.Cwd, path)) {
			out = append(out, p)
		}
	}
	return out
}

// tree lists every path below dir with its type and contents' length and
// a hash of the contents, for all-or-nothing comparisons.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := rel + " " + fi.Mode().String()
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h := fnv.New64a()
			h.Write(b)
			line += fmt.Sprintf(" %d %x", len(b), h.Sum64())
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// bootstrap places fakefn as WORK/<mode>/bootstrap.
func (h *hostile) bootstrap(t *testing.T, work, mode string) string {
	t.Helper()
	dir := filepath.Join(work, mode)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(h.fakefn)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// functions: bootstraps that misbehave are failed or measured, and every
// process they start is gone when verify returns.
func (h *hostile) functions(t *testing.T) {
	for _, tt := range []struct {
		mode string
		args []string
		code int
		want string // in stdout
	}{
		// Never asks for an event: Lambda's 10 s init limit.
		{"hang", nil, 1, "no /next within 10s"},
		{"crash", nil, 1, "exit status 3"},
		// A daemon that forks twice, calls setsid and keeps the output.
		{"daemon", []string{"--samples", "3"}, 0, "3 cold starts"},
		// 64 MiB of output before init ends: only a tail is kept.
		{"flood", []string{"--samples", "2"}, 0, "2 cold starts"},
		{"fork", []string{"--samples", "2"}, 0, "2 cold starts"},
		{"noanswer", []string{"--timeout", "300ms"}, 1, "Sandbox.Timedout"},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			work := t.TempDir()
			boot := h.bootstrap(t, work, tt.mode)
			r := h.run(t, work, 0, append([]string{"verify", boot}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.out, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", r.code, tt.code, tt.want, r.out, r.errOut)
			}
			if len(r.out)+len(r.errOut) > 64<<10 {
				t.Errorf("fnopt wrote %d bytes: the function's output is not bounded", len(r.out)+len(r.errOut))
			}
		})
	}
}

// layerOf is a layer made of raw tar entries (headers and contents), so
// that a test can write what no well-behaved tool would.
func layerOf(t *testing.T, entries []tarEntry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&e.hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil && e.hdr.Size == int64(len(e.body)) {
			t.Fatal(err)
		}
	}
	tw.Flush() // no Close: a truncated entry stays truncated
	return testenv.Layer(t, buf.Bytes())
}

type tarEntry struct {
	hdr  tar.Header
	body []byte
}

func file(name string, body []byte, mode int64) tarEntry {
	return tarEntry{tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body))}, body}
}

func dir(name string) tarEntry {
	return tarEntry{tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o755}, nil}
}

// writeLayout writes an image of the layers, with fakefn's mode in its
// environment, as an OCI layout, and returns its oci: reference.
func (h *hostile) writeLayout(t *testing.T, work, mode string, layers ...v1.Layer) string {
	t.Helper()
	img := testenv.HostImage(t, v1.Config{
		Entrypoint: []string{"/var/task/bootstrap"},
		WorkingDir: "/var/task",
		Env:        []string{"FAKEFN_MODE=" + mode},
	}, layers...)
	folder, err := os.MkdirTemp(work, "layout-")
	if err != nil {
		t.Fatal(err)
	}
	ref := image.Ref{Kind: image.OCI, Path: filepath.Join(folder, mode)}
	if err := image.Write(context.Background(), img, ref, image.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return ref.String()
}

// images: layers that try to leave the root, devices, a size no image
// has, a blob edited after its manifest was written, and a function that
// writes outside /tmp. verify runs what can be run safely, refuses the
// rest in one line, and nothing lands outside the image's root.
func (h *hostile) images(t *testing.T) {
	testenv.RequireRoot(t)
	work := t.TempDir()
	outside := filepath.Join(work, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	boot, err := os.ReadFile(h.fakefn)
	if err != nil {
		t.Fatal(err)
	}
	fn := []tarEntry{dir("var/"), dir("var/task/"), file("var/task/bootstrap", boot, 0o755)}
	escapes := layerOf(t, append(append([]tarEntry{}, fn...),
		file("../../../../../../.."+outside+"/traversal", []byte("x"), 0o644),
		tarEntry{tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: outside}, nil},
		file("esc/through-link", []byte("x"), 0o644),
		tarEntry{tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "../../../../etc/passwd"}, nil},
		tarEntry{tar.Header{Name: "dev-mem", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 1, Mode: 0o666}, nil},
	))
	huge := layerOf(t, append(append([]tarEntry{}, fn...),
		tarEntry{tar.Header{Name: "huge", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 40}, []byte("only this")}))
	for _, tt := range []struct {
		name   string
		ref    func() string
		args   []string
		code   int
		want   string // in stdout, or stderr when the exit is 2
		tamper bool
	}{
		{"entries leaving the root", func() string { return h.writeLayout(t, work, "echo", escapes) }, []string{"--samples", "2"}, 0, "2 cold starts", false},
		{"writes outside /tmp", func() string { return h.writeLayout(t, work, "escape", layerOf(t, fn)) }, []string{"--samples", "1", "--expect", `"tmp-only"`}, 0, "1 cold starts", false},
		{"a terabyte declared", func() string { return h.writeLayout(t, work, "echo", huge) }, nil, 2, "exceeds the extraction limits", false},
		{"a tampered blob", func() string { return h.writeLayout(t, work, "echo", layerOf(t, fn)) }, nil, 2, "sha256:", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ref := tt.ref()
			if tt.tamper {
				tamperLargestBlob(t, strings.TrimPrefix(ref, "oci:"))
			}
			r := h.run(t, work, 0, append([]string{"verify", ref}, tt.args...)...)
			got := r.out
			if r.code == 2 {
				got = r.errOut
			}
			if r.code != tt.code || !strings.Contains(got, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", r.code, tt.code, tt.want, r.out, r.errOut)
			}
			if left := testenv.Entries(t, outside); len(left) != 0 {
				t.Errorf("the image wrote outside its root: %v", left)
			}
			for _, p := range []string{"/etc/fakefn-escape", "/fakefn-escape", "/tmp/fakefn-escape"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("the function wrote %s on the host", p)
					os.Remove(p)
				}
			}
		})
	}
}

// tamperLargestBlob flips a byte in the middle of the layout's largest
// blob (the layer), keeping its size: only its digest tells.
func tamperLargestBlob(t *testing.T, layout string) {
	t.Helper()
	blobs := filepath.Join(layout, "blobs", "sha256")
	var biggest string
	var size int64
	for _, name := range testenv.Entries(t, blobs) {
		fi, err := os.Stat(filepath.Join(blobs, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > size {
			biggest, size = filepath.Join(blobs, name), fi.Size()
		}
	}
	b, err := os.ReadFile(biggest)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(biggest, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyExample copies examples/NAME into dir.
func copyExample(t *testing.T, name, dir string) {
	t.Helper()
	if err := project.CopyTree(filepath.Join("..", "..", "examples", name), dir, nil); err != nil {
		t.Fatal(err)
	}
}

// projects: build files that are not what their names say. optimize
// --apply refuses the whole plan in one line, exit 2, and writes nothing,
// inside the project or out of it; nothing waits on a named pipe.
func (h *hostile) projects(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(t *testing.T, dir, outside string)
		want  string
	}{
		{"template linked outside", func(t *testing.T, dir, outside string) {
			must(t, os.Rename(filepath.Join(dir, "template.yaml"), filepath.Join(outside, "t.yaml")))
			must(t, os.Symlink("../outside/t.yaml", filepath.Join(dir, "template.yaml")))
		}, "template.yaml is a symbolic link"},
		{"template as a folder", func(t *testing.T, dir, _ string) {
			must(t, os.Remove(filepath.Join(dir, "template.yaml")))
			must(t, os.Mkdir(filepath.Join(dir, "template.yaml"), 0o755))
		}, "template.yaml is a folder, not a file"},
		{"Makefile as a named pipe", func(t *testing.T, dir, _ string) {
			must(t, os.Remove(filepath.Join(dir, "Makefile")))
			must(t, syscall.Mkfifo(filepath.Join(dir, "Makefile"), 0o644))
		}, "Makefile is a named pipe, not a file"},
		{"unreadable template", func(t *testing.T, dir, _ string) {
			if os.Geteuid() == 0 {
				t.Skip("root reads a file whatever its mode")
			}
			must(t, os.Chmod(filepath.Join(dir, "template.yaml"), 0))
		}, "template.yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			dir, outside := filepath.Join(work, "fn"), filepath.Join(work, "outside")
			copyExample(t, "legacy-go-sam", dir)
			must(t, os.Mkdir(outside, 0o755))
			tt.spoil(t, dir, outside)
			before := tree(t, work)
			r := h.run(t, work, 0, "optimize", dir, "--apply", "--init=false")
			if r.code != 2 || !strings.Contains(r.errOut, tt.want) || strings.Count(r.errOut, "\n") != 1 {
				t.Errorf("exit %d, want 2 with one line saying %q:\n%s%s", r.code, tt.want, r.out, r.errOut)
			}
			if after := tree(t, work); after != before {
				t.Errorf("files changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// sourcePipe: a Go source file that is a named
// pipe. optimize (which traces init) and build refuse it by name, without
// opening it: the open would block forever, deaf to an interrupt.
func (h *hostile) sourcePipe(t *testing.T) {
	work := t.TempDir()
	dir := filepath.Join(work, "fn")
	copyExample(t, "legacy-go-sam", dir)
	must(t, os.Remove(filepath.Join(dir, "main.go")))
	must(t, syscall.Mkfifo(filepath.Join(dir, "main.go"), 0o644))
	before := tree(t, work)
	for _, tt := range []struct {
		args []string
		code int
		in   func(r result) string
	}{
		{[]string{"optimize", dir}, 0, func(r result) string { return r.out }},
		{[]string{"build", dir}, 2, func(r result) string { return r.errOut }},
	} {
		r := h.run(t, work, 0, tt.args...)
		// A failed build may leave its output folder, empty (as
		// internal/dist's tests allow).
		_ = os.Remove(filepath.Join(dir, "dist"))
		if r.code != tt.code || !strings.Contains(tt.in(r), "main.go is not a regular file") {
			t.Errorf("fnopt %s: exit %d, want %d saying main.go is not a regular file:\n%s%s", tt.args[0], r.code, tt.code, r.out, r.errOut)
		}
	}
	if after := tree(t, work); after != before {
		t.Errorf("files changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// interrupts: SIGINT at a random moment of new, optimize --apply and
// build. Each either finished (exit 0, everything written) or stopped
// (exit 130, or 2 when it failed first, with nothing written), and left
// nothing behind.
func (h *hostile) interrupts(t *testing.T) {
	work := t.TempDir()
	// What a whole run writes, for comparison.
	h.run(t, work, 0, "new", filepath.Join(work, "whole-new"), "--yes")
	wholeNew := tree(t, filepath.Join(work, "whole-new"))
	copyExample(t, "legacy-go-sam", filepath.Join(work, "whole-opt"))
	original := tree(t, filepath.Join(work, "whole-opt"))
	h.run(t, work, 0, "optimize", filepath.Join(work, "whole-opt"), "--apply", "--init=false")
	applied := tree(t, filepath.Join(work, "whole-opt"))
	if applied == original {
		t.Fatal("optimize --apply changed nothing: the test proves nothing")
	}

	for i := 0; i < 8; i++ {
		delay := time.Duration(1+h.rnd.IntN(400)) * time.Millisecond
		p := filepath.Join(work, fmt.Sprintf("new-%d", i))
		r := h.run(t, work, delay, "new", p, "--yes")
		got := tree(t, p)
		switch {
		case r.code == 0 && sameShape(got, wholeNew):
		case r.code == 130 && got == "":
		default:
			t.Errorf("new interrupted after %v: exit %d with %d files written:\n%s", delay, r.code, strings.Count(got, "\n")+1, r.errOut)
		}
	}

	for i := 0; i < 8; i++ {
		delay := time.Duration(1+h.rnd.IntN(300)) * time.Millisecond
		p := filepath.Join(work, fmt.Sprintf("opt-%d", i))
		copyExample(t, "legacy-go-sam", p)
		r := h.run(t, work, delay, "optimize", p, "--apply", "--init=false")
		got := tree(t, p)
		switch {
		case r.code == 0 && got == applied:
		case (r.code == 130 || r.code == 2) && got == original:
		default:
			t.Errorf("optimize --apply interrupted after %v: exit %d, files %s:\n%s", delay, r.code, map[bool]string{true: "as before", false: "changed"}[got == original], r.errOut)
		}
	}

	// Builds take seconds: a few, at any moment of the first four.
	// (buildFnopt has skipped the whole test already when go is missing.)
	for i := 0; i < 3; i++ {
		delay := time.Duration(1+h.rnd.IntN(4000)) * time.Millisecond
		p := filepath.Join(work, fmt.Sprintf("build-%d", i))
		if err := project.CopyTree(filepath.Join(work, "whole-new"), p, nil); err != nil {
			t.Fatal(err)
		}
		r := h.run(t, work, delay, "build", p)
		got := strings.Join(testenv.Entries(t, filepath.Join(p, "dist")), " ")
		switch {
		case r.code == 0 && got == "bootstrap function.zip":
		case r.code == 130 && got == "":
		default:
			t.Errorf("build interrupted after %v: exit %d, dist holds %q:\n%s", delay, r.code, got, r.errOut)
		}
	}
}

// sameShape reports whether two trees list the same paths and modes (the
// project name differs between runs, so contents may too).
func sameShape(a, b string) bool {
	shape := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				out = append(out, f[0]+" "+f[1])
			}
		}
		return out
	}
	return strings.Join(shape(a), "\n") == strings.Join(shape(b), "\n")
}
