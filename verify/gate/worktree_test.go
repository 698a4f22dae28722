package gate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testRepo makes a repository with two commits: the first has
// fn/version = "old", the second "new" and a file only it has.
func testRepo(t *testing.T) (repo, first string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo = t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, err := git(context.Background(), repo, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(msg string) {
		run("add", "-A")
		run("-c", "user.name=fnopt test", "-c", "user.email=test@example.com", "commit", "-q", "-m", msg)
	}
	run("init", "-q")
	write("fn/version", "old")
	commit("first")
	first = run("rev-parse", "HEAD")
	write("fn/version", "new")
	write("other/only-new", "x")
	commit("second")
	return repo, first
}

// worktreeCount is how many worktrees the repository lists (1 = main).
func worktreeCount(t *testing.T, repo string) int {
	t.Helper()
	out, err := git(context.Background(), repo, "worktree", "list", "--porcelain")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(out, "worktree ")
}

func assertRemoved(t *testing.T, repo string, wt *Worktree) {
	t.Helper()
	if wt == nil {
		t.Fatal("fn never ran")
	}
	for _, p := range []string{wt.Root, wt.tmp} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still exists (%v)", p, err)
		}
	}
	if n := worktreeCount(t, repo); n != 1 {
		t.Errorf("repository lists %d worktrees, want only the main one", n)
	}
}

func TestWithWorktree(t *testing.T) {
	repo, first := testRepo(t)
	errBuild := errors.New("build failed")
	tests := []struct {
		name    string
		fn      func(ctx context.Context, wt *Worktree) error
		wantErr error
		panics  bool
	}{
		{name: "success", fn: func(context.Context, *Worktree) error { return nil }},
		{name: "failure", fn: func(context.Context, *Worktree) error { return errBuild }, wantErr: errBuild},
		{name: "panic", fn: func(context.Context, *Worktree) error { panic("boom") }, panics: true},
		{name: "leaves build outputs", fn: func(_ context.Context, wt *Worktree) error {
			return os.WriteFile(filepath.Join(wt.Dir, "bootstrap"), []byte("binary"), 0o755)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen *Worktree
			var err error
			func() {
				defer func() {
					if r := recover(); (r != nil) != tt.panics {
						t.Errorf("recovered %v, want panic %v", r, tt.panics)
					}
				}()
				err = WithWorktree(context.Background(), filepath.Join(repo, "fn"), first[:10], func(ctx context.Context, wt *Worktree) error {
					seen = wt
					data, rerr := os.ReadFile(filepath.Join(wt.Dir, "version"))
					if rerr != nil || string(data) != "old" {
						t.Errorf("worktree has version %q (%v), want the first commit's", data, rerr)
					}
					if wt.Commit != first {
						t.Errorf("commit %s, want %s", wt.Commit, first)
					}
					if _, serr := os.Stat(filepath.Join(wt.Root, "other", "only-new")); serr == nil {
						t.Error("worktree has a file of the later commit")
					}
					return tt.fn(ctx, wt)
				})
			}()
			if !tt.panics && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			assertRemoved(t, repo, seen)
		})
	}
}

func TestWithWorktreeCancelled(t *testing.T) {
	repo, first := testRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	var seen *Worktree
	err := WithWorktree(ctx, repo, first, func(ctx context.Context, wt *Worktree) error {
		seen = wt
		cancel() // as SIGINT does through signal.NotifyContext
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	assertRemoved(t, repo, seen)
}

func TestAddWorktreeErrors(t *testing.T) {
	repo, _ := testRepo(t)
	// A commit without fn/: an orphan commit of git's empty tree.
	empty, err := git(context.Background(), repo, "-c", "user.name=t", "-c", "user.email=t@example.com",
		"commit-tree", "-m", "empty", "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
	if err != nil {
		t.Fatal(err)
	}
	notRepo := t.TempDir()
	tests := []struct {
		name, dir, rev, want string
		typed                error // the error's type and fields, when it has them
	}{
		{"not a repository", notRepo, "HEAD", "is not inside a git repository", &NotInRepositoryError{Dir: notRepo}},
		{"unknown revision", repo, "no-such-branch", `revision "no-such-branch" is not in the repository`, nil},
		{"function missing at revision", filepath.Join(repo, "fn"), empty, "fn does not exist at " + empty[:12], &MissingAtRevisionError{Path: "fn", Commit: empty}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wt, err := AddWorktree(context.Background(), tt.dir, tt.rev)
			if err == nil {
				_ = wt.Remove()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line containing %q", err, tt.want)
			}
			// Library errors name no flags: the command adds --against.
			if strings.Contains(err.Error(), "--") {
				t.Errorf("error %q names a flag", err)
			}
			switch want := tt.typed.(type) {
			case *NotInRepositoryError:
				var got *NotInRepositoryError
				if !errors.As(err, &got) || *got != *want {
					t.Errorf("error %#v, want %#v", err, want)
				}
			case *MissingAtRevisionError:
				var got *MissingAtRevisionError
				if !errors.As(err, &got) || *got != *want {
					t.Errorf("error %#v, want %#v", err, want)
				}
			}
			if n := worktreeCount(t, repo); n != 1 {
				t.Errorf("failed add left %d worktrees", n)
			}
		})
	}
}

func TestAddWorktreeWithoutGit(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := AddWorktree(context.Background(), ".", "HEAD")
	if !errors.Is(err, ErrNoGit) {
		t.Errorf("error %v, want ErrNoGit", err)
	}
}

// TestWorktreeHelperProcess is not a test: the signal tests run the test
// binary again with GATE_WORKTREE_HELPER=repo, and this is that process.
// It behaves as the command does: cancel on SIGINT/SIGTERM, hold a
// worktree, print its path, wait.
func TestWorktreeHelperProcess(t *testing.T) {
	repo := os.Getenv("GATE_WORKTREE_HELPER")
	if repo == "" {
		t.Skip("helper process for the signal tests")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := WithWorktree(ctx, repo, "HEAD~1", func(ctx context.Context, wt *Worktree) error {
		fmt.Println(wt.Root)
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("helper: %v", err)
	}
}

// startHelper runs the helper on repo and returns it with the worktree
// path it printed.
func startHelper(t *testing.T, repo string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorktreeHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GATE_WORKTREE_HELPER="+repo)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- strings.TrimSpace(line)
	}()
	select {
	case root := <-lines:
		if root == "" {
			t.Fatal("helper printed no worktree")
		}
		return cmd, root
	case <-time.After(30 * time.Second):
		t.Fatal("helper did not start")
	}
	return nil, ""
}

func TestWorktreeRemovedOnSignal(t *testing.T) {
	repo, _ := testRepo(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, root := startHelper(t, repo)
			if _, err := os.Stat(root); err != nil {
				t.Fatalf("worktree not there while running: %v", err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("helper exited with %v", err)
			}
			assertRemoved(t, repo, &Worktree{Root: root, tmp: filepath.Dir(root)})
		})
	}
}

func TestWorktreeOfKilledProcessRemovedNextTime(t *testing.T) {
	repo, first := testRepo(t)
	cmd, root := startHelper(t, repo)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup possible
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("a killed process cannot clean up, yet %s is gone: %v", root, err)
	}
	if n := worktreeCount(t, repo); n != 2 {
		t.Fatalf("%d worktrees after the kill, want 2", n)
	}
	err := WithWorktree(context.Background(), repo, first, func(context.Context, *Worktree) error {
		if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale worktree %s not removed (%v)", root, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	assertRemoved(t, repo, &Worktree{Root: root, tmp: filepath.Dir(root)})
}
