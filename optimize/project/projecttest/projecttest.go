// Package projecttest holds test doubles for package project, shared by
// the tests of the optimize library and of its command.
package projecttest

import (
	"context"

	"github.com/fnopt/fnopt/optimize/project"
)

// CancelOnCommit is a project.Writer that cancels a context as the plan's
// first file is committed: an interrupt that arrives once writing has
// begun.
type CancelOnCommit struct {
	project.OSWriter
	Cancel context.CancelFunc
}

// Commit cancels, then commits as OSWriter does.
func (w CancelOnCommit) Commit(tmp, path string) error {
	w.Cancel()
	return w.OSWriter.Commit(tmp, path)
}
