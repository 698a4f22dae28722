//go:build unix

package newcmd

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/templates"
)

// childEnv makes the test binary act as `fnopt new` (see TestMain), so
// tests can run the command as its own process: to interrupt it with a
// signal or to run it as another user.
const childEnv = "FNOPT_NEWCMD_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		ios := cmdutil.System()
		root := &cobra.Command{Use: "fnopt", SilenceUsage: true, SilenceErrors: true}
		root.AddCommand(NewCmd(ios))
		root.SetArgs(append([]string{"new"}, os.Args[1:]...))
		os.Exit(cmdutil.Report(ios.ErrOut, root.Execute()))
	}
	os.Exit(m.Run())
}

// childCommand returns the test binary run as `fnopt new args...` in dir.
func childCommand(t *testing.T, bin, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"=1")
	return cmd
}

func TestUnwritableParent(t *testing.T) {
	// A world-readable place for the binary and the folders: the test may
	// run the child as nobody.
	base, err := os.MkdirTemp("", "newcmd-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Chmod(filepath.Join(base, "ro"), 0o755)
		os.RemoveAll(base)
	})
	bin := filepath.Join(base, "fnopt-new")
	copyFile(t, os.Args[0], bin)
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(base, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	os.Chmod(ro, 0o555)

	cmd := childCommand(t, bin, base, "ro/hello", "--yes")
	if os.Geteuid() == 0 {
		// root writes anywhere: be nobody for this run.
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != cmdutil.ExitUsage {
		t.Fatalf("exit %v, want status 2; output %s", err, out)
	}
	if want := "fnopt: cannot write in ro: permission denied\n"; string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if entries, _ := os.ReadDir(ro); len(entries) != 0 {
		t.Errorf("left behind in ro: %v", entries)
	}
}

// TestInterruptLeavesCompleteOrNothing sends SIGINT at different moments
// of a run: the folder then holds the complete project or nothing, never
// a part of it or a temporary folder.
func TestInterruptLeavesCompleteOrNothing(t *testing.T) {
	files, err := templates.Render(templates.Options{Name: "proj", Lang: "go", Event: "raw", Arch: "arm64", Package: "zip", Client: "minimal"})
	if err != nil {
		t.Fatal(err)
	}
	interrupted := 0
	for i := 0; i < 12; i++ {
		dir := t.TempDir()
		cmd := childCommand(t, os.Args[0], dir, "proj", "--yes", "--client", "minimal")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(2*i) * time.Millisecond)
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		entries, _ := os.ReadDir(dir)
		if err != nil {
			interrupted++
		}
		switch {
		case len(entries) == 0 && err == nil:
			t.Fatalf("run %d succeeded and wrote nothing", i)
		case len(entries) == 0:
			// Interrupted before the project was in place: nothing left.
		case len(entries) != 1 || entries[0].Name() != "proj":
			t.Fatalf("run %d (%v) left %v", i, err, entries)
		default:
			// Complete, whether or not the signal came after the write.
			n := 0
			filepath.WalkDir(filepath.Join(dir, "proj"), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					n++
				}
				return nil
			})
			if n != len(files) {
				t.Fatalf("run %d (%v): %d files, want %d", i, err, n, len(files))
			}
		}
	}
	t.Logf("%d of 12 runs interrupted", interrupted)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
