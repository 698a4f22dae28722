package optimize

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/fnopt/fnopt/optimize/project"
	"github.com/fnopt/fnopt/optimize/project/projecttest"
)

// legacy copies examples/legacy-go-sam, a function built with go1.x-era
// settings, into a temporary folder.
func legacy(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "legacy-go-sam")
	if err := project.CopyTree(filepath.Join("..", "examples", "legacy-go-sam"), dst, nil); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestRun(t *testing.T) {
	tests := []struct {
		name        string
		opts        func(cancel context.CancelFunc) Options
		cancelFirst bool
		wantErr     error
		wantApplied bool
		wantLate    bool
	}{
		{name: "plan only", opts: func(context.CancelFunc) Options { return Options{} }},
		{name: "apply", opts: func(context.CancelFunc) Options { return Options{Apply: true} }, wantApplied: true},
		{name: "interrupted before writing", cancelFirst: true,
			opts: func(context.CancelFunc) Options { return Options{Apply: true} }, wantErr: ErrInterrupted{}},
		{name: "interrupted while applying",
			opts: func(c context.CancelFunc) Options {
				return Options{Apply: true, Writer: projecttest.CancelOnCommit{Cancel: c}}
			}, wantApplied: true, wantLate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := legacy(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelFirst {
				cancel()
			}
			before := snapshot(t, dir)
			res, err := Run(ctx, dir, tt.opts(cancel))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if after := snapshot(t, dir); !maps.Equal(before, after) {
					t.Error("files changed although the run was refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Plan.Findings) == 0 || res.Diff == "" {
				t.Fatalf("no findings on a legacy function: %+v", res.Plan.Findings)
			}
			if got := len(res.Applied) > 0; got != tt.wantApplied {
				t.Errorf("applied %v, want applied %v", res.Applied, tt.wantApplied)
			}
			if res.Late != tt.wantLate {
				t.Errorf("Late = %v, want %v", res.Late, tt.wantLate)
			}
			if !tt.wantApplied {
				if after := snapshot(t, dir); !maps.Equal(before, after) {
					t.Error("a plan without Apply changed files")
				}
				return
			}
			// Applied in full: a second run has nothing left to do.
			again, err := Run(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if again.Diff != "" {
				t.Errorf("after applying, the plan still has edits:\n%s", again.Diff)
			}
		})
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		m[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}
