package templates_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fnopt/fnopt/templates"
)

func sampleFiles() []templates.File {
	return []templates.File{
		{Path: "a.txt", Mode: 0o644, Data: []byte("a")},
		{Path: "sub/run.sh", Mode: 0o755, Data: []byte("#!/bin/sh\n")},
	}
}

// list returns every name under dir, for "nothing left behind" checks.
func list(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	sort.Strings(names)
	return names
}

func TestWrite(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "proj")
	if err := templates.Write(context.Background(), dir, sampleFiles()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(list(t, parent), " "); got != "proj proj/a.txt proj/sub proj/sub/run.sh" {
		t.Errorf("parent holds %s", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "sub", "run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh mode %v, %v", fi.Mode(), err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() == 0o700 {
		t.Errorf("the project folder kept the temporary folder's mode %v", fi.Mode())
	}
}

func TestWriteIntoEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	if err := templates.Write(context.Background(), dir, sampleFiles()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(list(t, filepath.Dir(dir)), " "); !strings.Contains(got, "a.txt") || strings.Contains(got, ".tmp-") {
		t.Errorf("after writing into an empty folder: %s", got)
	}
}

func TestWriteRefusesAndLeavesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, parent string) (dir string)
		ctx   func() context.Context
		want  string
	}{
		{"non-empty folder", func(t *testing.T, parent string) string {
			os.MkdirAll(filepath.Join(parent, "proj"), 0o755)
			os.WriteFile(filepath.Join(parent, "proj", "mine.go"), []byte("keep"), 0o644)
			return filepath.Join(parent, "proj")
		}, context.Background, "exists and is not empty"},
		{"a file", func(t *testing.T, parent string) string {
			os.WriteFile(filepath.Join(parent, "proj"), []byte("keep"), 0o644)
			return filepath.Join(parent, "proj")
		}, context.Background, "exists and is a file"},
		{"missing parent", func(t *testing.T, parent string) string {
			return filepath.Join(parent, "no", "proj")
		}, context.Background, "does not exist"},
		{"interrupted", func(t *testing.T, parent string) string {
			return filepath.Join(parent, "proj")
		}, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := tc.setup(t, parent)
			before := list(t, parent)
			err := templates.Write(tc.ctx(), dir, sampleFiles())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write = %v, want %q", err, tc.want)
			}
			if after := list(t, parent); strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("folder changed from %v to %v", before, after)
			}
			if tc.name == "non-empty folder" && !errors.Is(err, templates.ErrNotEmpty) {
				t.Errorf("error %v is not ErrNotEmpty", err)
			}
		})
	}
}
