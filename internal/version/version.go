// Package version says which fnopt is running: the release it was built
// as (a tag set by the release build's linker, or the module version of
// `go install …@vX`), or, for a development build, the commit it was
// built from when the build recorded one.
package version

import (
	"runtime/debug"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// linked is set by release builds at link time (.goreleaser.yaml):
//
//	-ldflags "-X github.com/fnopt/fnopt/internal/version.linked=v1.2.3"
//
// It is written by the linker only; no code assigns it. Empty in every
// other build, which then reads the version from the build information.
var linked string

// Devel is the version of a build that knows none: a build from a
// checkout, or a test binary (the go command's own word for it).
const Devel = "(devel)"

// Info is what a binary knows about its own build.
type Info struct {
	// Version is a release tag (v1.2.3), a module pseudo-version (a
	// `go install` of a commit, or a checkout build the go command
	// stamped from git), or Devel.
	Version string
	// Revision is the full commit hash the binary was built from, when
	// the build recorded its version control information; Time is that
	// commit's time (RFC 3339) and Modified says the working tree had
	// changes on top of it.
	Revision string
	Time     string
	Modified bool
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// Get reads this binary's build information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(linked, bi)
}

// fromBuild combines the linker-set version (it wins: a release build
// says what it was released as) with the build information; bi may be
// nil (a binary built without module support).
func fromBuild(linkedVersion string, bi *debug.BuildInfo) Info {
	info := Info{Version: Devel}
	if bi != nil {
		info.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" {
			info.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if v := strings.TrimSpace(linkedVersion); v != "" {
		info.Version = v
	}
	return info
}

// Release returns the release tag this binary was built as, and false
// for any development build: a pseudo-version (a commit, not a release),
// a version with build metadata (v1.2.3+dirty: changes on top of a tag),
// or no version at all.
func (i Info) Release() (string, bool) {
	v := i.Version
	if !semver.IsValid(v) || semver.Build(v) != "" || module.IsPseudoVersion(v) {
		return "", false
	}
	return v, true
}

// Commit returns the full commit hash the binary was built from, when it
// is known: recorded by the build, or (for `go install …@<commit>`) only
// as the pseudo-version's 12-digit abbreviation, which is not returned
// because a short hash cannot pin a GitHub Action.
func (i Info) Commit() (string, bool) {
	if len(i.Revision) == 40 && strings.Trim(i.Revision, "0123456789abcdef") == "" {
		return i.Revision, true
	}
	return "", false
}

// String is the long form `fnopt --version` prints: the version, then the
// commit, its time and whether the tree was modified, when known.
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Version)
	if i.Revision != "" {
		b.WriteString(" (commit " + i.Revision)
		if i.Time != "" {
			b.WriteString(", " + i.Time)
		}
		if i.Modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	if i.GoVersion != "" {
		b.WriteString(", built with " + i.GoVersion)
	}
	return b.String()
}
