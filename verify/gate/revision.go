package gate

import (
	"context"
	"os"
	"path/filepath"
)

// gitRevision is the commit checked out where target is, and whether the
// working tree has changes to tracked files; "" outside a git repository
// or without git.
func gitRevision(ctx context.Context, target string) (string, bool) {
	dir := target
	if st, err := os.Stat(target); err == nil && !st.IsDir() {
		dir = filepath.Dir(target)
	}
	head, err := git(ctx, dir, "rev-parse", "HEAD")
	if err != nil {
		return "", false
	}
	status, err := git(ctx, dir, "status", "--porcelain", "--untracked-files=no")
	return head, err == nil && status != ""
}

// short abbreviates a commit hash for messages and labels: the one
// short-revision helper.
func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
