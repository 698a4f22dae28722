package version

import (
	"runtime/debug"
	"testing"
)

const rev = "dedc747f3b2c4a1e9d8c7b6a5f4e3d2c1b0a9f8e"

func TestFromBuild(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-12-02T02:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name     string
		linked   string
		bi       *debug.BuildInfo
		version  string
		release  string // "" when not a release
		commit   string // "" when not known
		str      string
		modified bool
	}{
		{name: "no build information", version: Devel, str: Devel},
		{name: "test binary", bi: &debug.BuildInfo{Main: debug.Module{Version: Devel}}, version: Devel, str: Devel},
		{name: "go install @tag", bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			version: "v1.2.3", release: "v1.2.3", str: "v1.2.3, built with go1.26.8"},
		{name: "go install @prerelease tag", bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0-rc.1"}},
			version: "v1.3.0-rc.1", release: "v1.3.0-rc.1", str: "v1.3.0-rc.1"},
		{name: "go install @commit", bi: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202020000-dedc747f3b2c"}},
			version: "v0.0.0-20261202020000-dedc747f3b2c", str: "v0.0.0-20261202020000-dedc747f3b2c"},
		{name: "checkout with changes, stamped by go build", bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20261202020000-dedc747f3b2c+dirty"}, Settings: vcs},
			version: "v1.2.4-0.20261202020000-dedc747f3b2c+dirty", commit: rev, modified: true,
			str: "v1.2.4-0.20261202020000-dedc747f3b2c+dirty (commit " + rev + ", 2026-12-02T02:00:00Z, modified)"},
		{name: "tag with build metadata", bi: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3+dirty"}}, version: "v1.2.3+dirty", str: "v1.2.3+dirty"},
		{name: "release build: the linker's tag wins", linked: "v1.2.3", bi: &debug.BuildInfo{Main: debug.Module{Version: Devel}, Settings: vcs[:2]},
			version: "v1.2.3", release: "v1.2.3", commit: rev, str: "v1.2.3 (commit " + rev + ", 2026-12-02T02:00:00Z)"},
		{name: "short revision is no commit", bi: &debug.BuildInfo{Main: debug.Module{Version: Devel}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "dedc747"}}},
			version: Devel, str: Devel + " (commit dedc747)"},
		{name: "not semver", linked: "1.2.3", version: "1.2.3", str: "1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := fromBuild(tt.linked, tt.bi)
			if i.Version != tt.version {
				t.Errorf("Version = %q, want %q", i.Version, tt.version)
			}
			if i.Modified != tt.modified {
				t.Errorf("Modified = %v, want %v", i.Modified, tt.modified)
			}
			rel, ok := i.Release()
			if rel != tt.release || ok != (tt.release != "") {
				t.Errorf("Release() = %q, %v; want %q", rel, ok, tt.release)
			}
			c, ok := i.Commit()
			if c != tt.commit || ok != (tt.commit != "") {
				t.Errorf("Commit() = %q, %v; want %q", c, ok, tt.commit)
			}
			if s := i.String(); s != tt.str {
				t.Errorf("String() = %q, want %q", s, tt.str)
			}
		})
	}
}

// A test binary has build information and no release.
func TestGet(t *testing.T) {
	i := Get()
	if i.Version == "" || i.GoVersion == "" {
		t.Fatalf("Get() = %+v: version and Go version must be known", i)
	}
	if _, ok := i.Release(); ok {
		t.Errorf("a test binary claims release %q", i.Version)
	}
}
