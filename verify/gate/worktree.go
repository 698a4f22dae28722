package gate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Worktree is a temporary, detached git worktree of one revision, made to
// build that revision beside the working tree (--against).
type Worktree struct {
	// Root is the worktree's top folder; Dir is the function's folder
	// inside it (the same path relative to the repository's top).
	Root, Dir string
	// Commit is the full hash REV resolved to.
	Commit string

	repo string // top of the repository the worktree belongs to
	tmp  string // temporary folder holding Root
}

// ErrNoGit: comparing with a revision needs git, and it is not installed.
var ErrNoGit = errors.New("git is not installed")

// NotInRepositoryError is a function folder outside any git repository,
// so there is no revision to compare with.
type NotInRepositoryError struct {
	Dir string
}

func (e *NotInRepositoryError) Error() string {
	return fmt.Sprintf("%s is not inside a git repository", e.Dir)
}

// MissingAtRevisionError is a revision that does not have the function's
// folder (Path, relative to the repository's top).
type MissingAtRevisionError struct {
	Path   string
	Commit string // the full hash of the revision
}

func (e *MissingAtRevisionError) Error() string {
	return fmt.Sprintf("%s does not exist at %s", e.Path, short(e.Commit))
}

// lockPrefix starts the lock reason of every worktree fnopt adds; the pid
// that follows lets a later run remove worktrees of a killed process.
const lockPrefix = "fnopt gate pid "

// cleanupTimeout bounds the removal, which must run even after the
// caller's context was cancelled (Ctrl-C).
const cleanupTimeout = 30 * time.Second

// WithWorktree adds a temporary worktree of rev for the git repository
// holding dir, runs fn with it, and removes it whatever happens: fn
// returns, fails, panics, or ctx is cancelled. Commands cancel ctx on
// SIGINT/SIGTERM (signal.NotifyContext), so an interrupted gate cleans up
// too. A process killed outright (SIGKILL) cannot; its worktree stays
// locked with its pid, and the next WithWorktree in that repository
// removes it.
func WithWorktree(ctx context.Context, dir, rev string, fn func(ctx context.Context, wt *Worktree) error) (err error) {
	wt, err := AddWorktree(ctx, dir, rev)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := wt.Remove(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	return fn(ctx, wt)
}

// AddWorktree resolves rev in the repository holding dir and checks it
// out, detached and locked, into a new temporary folder. The caller must
// call Remove; WithWorktree does.
func AddWorktree(ctx context.Context, dir, rev string) (*Worktree, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, ErrNoGit
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", dir, err)
	}
	top, err := git(ctx, absDir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, &NotInRepositoryError{Dir: dir}
	}
	commit, err := git(ctx, top, "rev-parse", "--verify", "--quiet", rev+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("revision %q is not in the repository at %s; fetch it first (in CI, check out with enough history, e.g. fetch-depth: 0)", rev, top)
	}
	rel, err := relInside(top, absDir)
	if err != nil {
		return nil, err
	}

	pruneStale(ctx, top)

	tmp, err := os.MkdirTemp("", "fnopt-against-")
	if err != nil {
		return nil, fmt.Errorf("creating a folder for the worktree: %w", err)
	}
	root := filepath.Join(tmp, "src")
	wt := &Worktree{Root: root, Dir: filepath.Join(root, rel), Commit: commit, repo: top, tmp: tmp}
	reason := lockPrefix + strconv.Itoa(os.Getpid())
	if _, err := git(ctx, top, "worktree", "add", "--detach", "--lock", "--reason", reason, root, commit); err != nil {
		_ = wt.Remove() // git may have registered it before failing
		return nil, fmt.Errorf("checking out %s in a temporary worktree: %w", rev, err)
	}
	if _, err := os.Stat(wt.Dir); err != nil {
		_ = wt.Remove()
		return nil, &MissingAtRevisionError{Path: rel, Commit: commit}
	}
	return wt, nil
}

// Remove deletes the worktree and its registration in the repository. It
// does not use the caller's context: cleanup must survive cancellation.
func (w *Worktree) Remove() error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	var errs []error
	if _, err := os.Stat(w.Root); err == nil {
		// Twice --force: removes a locked worktree with changes (build
		// outputs) in it.
		if _, err := git(ctx, w.repo, "worktree", "remove", "--force", "--force", w.Root); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(w.tmp); err != nil {
		errs = append(errs, err)
	}
	// Drops the registration if the folder went away another way.
	if _, err := git(ctx, w.repo, "worktree", "prune"); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing the temporary worktree %s: %w", w.Root, err)
	}
	return nil
}

// pruneStale removes worktrees that an earlier fnopt process added and
// could not remove because it was killed: locked by fnopt with the pid of
// a process that no longer exists. Failures are ignored; this is tidying.
func pruneStale(ctx context.Context, repo string) {
	out, err := git(ctx, repo, "worktree", "list", "--porcelain")
	if err != nil {
		return
	}
	for _, block := range strings.Split(out, "\n\n") {
		var path, reason string
		for _, line := range strings.Split(block, "\n") {
			if p, ok := strings.CutPrefix(line, "worktree "); ok {
				path = p
			}
			if r, ok := strings.CutPrefix(line, "locked "); ok {
				reason = r
			}
		}
		pidText, ok := strings.CutPrefix(reason, lockPrefix)
		if !ok || path == "" {
			continue
		}
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		stale := &Worktree{Root: path, repo: repo, tmp: filepath.Dir(path)}
		if !strings.HasPrefix(filepath.Base(stale.tmp), "fnopt-against-") {
			stale.tmp = path // never delete a folder fnopt did not make
		}
		_ = stale.Remove()
	}
}

// relInside returns dir relative to top, refusing a dir outside it.
func relInside(top, dir string) (string, error) {
	t, err := filepath.EvalSymlinks(top)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", top, err)
	}
	d, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", dir, err)
	}
	rel, err := filepath.Rel(t, d)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is not inside the repository %s", dir, top)
	}
	return rel, nil
}

// git runs git in dir and returns its trimmed standard output; an error
// carries git's first line of standard error.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	// A clean, predictable git: no pager, no prompts, English messages.
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", args[0], msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}
