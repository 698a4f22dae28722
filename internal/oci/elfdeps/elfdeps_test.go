package elfdeps

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/testenv"
)

// lddPaths is what the host's loader loads for prog, resolved.
func lddPaths(t *testing.T, prog string) []string {
	t.Helper()
	return resolveAll(t, lddNames(t, prog))
}

// lddNames is what the loader opens for prog (interpreter included), as named.
func lddNames(t *testing.T, prog string) []string {
	t.Helper()
	out, err := exec.Command("ldd", prog).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", prog, err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)(/\S+) \(0x`).FindAllStringSubmatch(string(out), -1) {
		names = append(names, m[1])
	}
	return names
}

func resolveAll(t *testing.T, names []string) []string {
	var paths []string
	for _, n := range names {
		real, err := filepath.EvalSymlinks(n)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, real)
	}
	sort.Strings(paths)
	return paths
}

func closurePaths(t *testing.T, r *Resolver, progs ...string) ([]string, *Closure) {
	t.Helper()
	c, err := r.Closure(progs...)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range c.Deps {
		got = append(got, d.Resolved.Path)
	}
	sort.Strings(got)
	return got, c
}

// TestHostProgramsMatchLdd compares the closure of real programs of this
// machine (root "/") with what ldd, i.e. the loader itself, loads.
func TestHostProgramsMatchLdd(t *testing.T) {
	r := NewResolver(NewRoot("/"), Options{})
	for _, prog := range []string{"/bin/sh", "/usr/bin/curl", "/usr/bin/strace"} {
		if _, err := os.Stat(prog); err != nil {
			continue
		}
		real, _ := filepath.EvalSymlinks(prog)
		got, c := closurePaths(t, r, real)
		want := lddPaths(t, real)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\ngot  %v\nwant %v", prog, got, want)
		}
		if len(c.Missing) > 0 {
			t.Errorf("%s: missing %v", prog, c.Missing)
		}
	}
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestImageRoot builds a root like an image's: libraries under a
// symlinked /lib, a private library found through an ld.so.conf include,
// another through DT_RUNPATH $ORIGIN, and checks nothing is taken from the
// host.
func TestImageRoot(t *testing.T) {
	testenv.LookPath(t, "gcc", "gcc")
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "foo.c"), []byte("int foo(void){return 1;}\n"), 0o644)
	os.WriteFile(filepath.Join(src, "bar.c"), []byte("int bar(void){return 2;}\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.c"), []byte(`#include <zlib.h>
#include <math.h>
int foo(void); int bar(void);
int main(int c, char **v){ return foo()+bar()+(int)sqrt((double)c)+(zlibVersion()[0]=='x'); }
`), 0o644)
	run(t, src, "gcc", "-shared", "-fPIC", "-o", "libfoo.so", "foo.c")
	run(t, src, "gcc", "-shared", "-fPIC", "-o", "libbar.so", "bar.c")
	run(t, src, "gcc", "-o", "main", "main.c", "-L.", "-lfoo", "-lbar", "-lz", "-lm", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib")

	root := t.TempDir()
	copyTo(t, filepath.Join(src, "main"), filepath.Join(root, "app/bin/main"))
	copyTo(t, filepath.Join(src, "libbar.so"), filepath.Join(root, "app/lib/libbar.so"))
	copyTo(t, filepath.Join(src, "libfoo.so"), filepath.Join(root, "opt/foo/libfoo.so"))
	os.MkdirAll(filepath.Join(root, "etc/ld.so.conf.d"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/ld.so.conf"), []byte("# conf\ninclude /etc/ld.so.conf.d/*.conf\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/ld.so.conf.d/foo.conf"), []byte("/opt/foo\n"), 0o644)
	hostLibs := lddPaths(t, filepath.Join(src, "main"))
	var want []string
	for _, n := range lddNames(t, filepath.Join(src, "main")) {
		if strings.Contains(n, "libfoo") || strings.Contains(n, "libbar") {
			continue
		}
		// The host's library, and the symlinks to it, in the image.
		want = append(want, Mirror(t, n, root))
	}
	if fi, err := os.Lstat(filepath.Join(root, "lib")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Logf("this machine has no /lib -> usr/lib symlink; the symlinked library path is not exercised")
	}
	want = append(want, "/app/lib/libbar.so", "/opt/foo/libfoo.so")
	sort.Strings(want)

	r := NewResolver(NewRoot(root), Options{})
	got, c := closurePaths(t, r, "/app/bin/main")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if len(c.Missing) > 0 {
		t.Errorf("missing %v", c.Missing)
	}
	for _, d := range c.Deps {
		if d.Name == "libfoo.so" && strings.Join(d.ConfFiles, " ") != "/etc/ld.so.conf /etc/ld.so.conf.d/foo.conf" {
			t.Errorf("libfoo found through %v, want the ld.so.conf include chain", d.ConfFiles)
		}
		if d.Name == "interpreter" && len(d.Resolved.Links) == 0 {
			t.Errorf("interpreter %s reached without the /lib64 symlink: %+v", d.Path, d.Resolved)
		}
	}

	// Without libz in the image the closure says so (the host's is not used).
	for _, l := range hostLibs {
		if strings.Contains(l, "libz.so") {
			os.Remove(filepath.Join(root, strings.TrimPrefix(l, "/")))
		}
	}
	_, c = closurePaths(t, NewResolver(NewRoot(root), Options{}), "/app/bin/main")
	if len(c.Missing) != 1 || c.Missing[0].Name != "libz.so.1" {
		t.Errorf("missing %+v, want libz.so.1", c.Missing)
	}
}

// Mirror copies the host file p into root at the same path, recreating
// the symlinks met on the way (also in root), and returns the final path.
func Mirror(t *testing.T, p, root string) string {
	t.Helper()
	cur := "/"
	todo := strings.Split(strings.Trim(p, "/"), "/")
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		if c == "" || c == "." {
			continue
		}
		if c == ".." {
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(next)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			if hops++; hops > 40 {
				t.Fatalf("%s: symlink loop", p)
			}
			target, err := os.Readlink(next)
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(root, next)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			if _, err := os.Lstat(dst); err != nil {
				if err := os.Symlink(target, dst); err != nil {
					t.Fatal(err)
				}
			}
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			todo = append(strings.Split(strings.Trim(target, "/"), "/"), todo...)
			continue
		}
		if fi.IsDir() {
			os.MkdirAll(filepath.Join(root, next), 0o755)
		} else {
			copyTo(t, next, filepath.Join(root, next))
		}
		cur = next
	}
	return cur
}

func TestResolveStaysInRoot(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "a"), 0o755)
	os.Symlink("/etc", filepath.Join(root, "esc"))
	os.Symlink("../../../../etc/passwd", filepath.Join(root, "a/up"))
	os.Symlink("loop2", filepath.Join(root, "loop1"))
	os.Symlink("loop1", filepath.Join(root, "loop2"))
	r := NewRoot(root)
	for _, p := range []string{"/esc/passwd", "/a/up"} {
		if res, err := r.Resolve(p); err == nil {
			t.Errorf("%s resolved to %s: outside the root", p, res.Path)
		}
	}
	if _, err := r.Resolve("/loop1"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("loop: %v", err)
	}
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/:/bin/sh\n"), 0o644)
	res, err := r.Resolve("/a/up")
	if err != nil || res.Path != "/etc/passwd" || len(res.Links) != 1 {
		t.Errorf("got %+v %v", res, err)
	}
}

// TestInspectTruncated: every prefix of a real program is refused or read,
// never a panic (files come from untrusted images).
func TestInspectTruncated(t *testing.T) {
	b, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Skip(err)
	}
	b = b[:min(len(b), 64<<10)]
	for n := 0; n <= len(b); n += 1 + n/8 {
		_, _ = Inspect(bytes.NewReader(b[:n]))
	}
	junk := append([]byte("\x7fELF\x02\x01\x01"), bytes.Repeat([]byte{0xff}, 200)...)
	if _, err := Inspect(bytes.NewReader(junk)); err == nil {
		t.Error("junk after the ELF magic was accepted")
	}
}
