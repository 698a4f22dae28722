package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"syscall"

	"github.com/pelletier/go-toml/v2"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// UserProfile is the [profile.release] the project sets, in its
// Cargo.toml or in Cargo's configuration files (.cargo/config.toml): the
// values fnopt keeps rather than overrides, because `cargo --config` would
// take precedence over both.
type UserProfile struct {
	// Values are the keys it sets, as TOML literals (opt-level = 2 is
	// "2", "s" is `"s"`).
	Values map[string]string
}

// ReadUserProfile reads the release profile Cargo will apply to the
// package in dir, as cargo run in dir does: the [profile.release] of the
// nearest Cargo.toml up from dir that declares a [workspace], else of
// dir's own Cargo.toml, overridden key by key by the [profile.release] of
// the .cargo/config.toml files from dir up, the nearest winning
// (https://doc.rust-lang.org/cargo/reference/config.html). The one in
// $CARGO_HOME and CARGO_PROFILE_RELEASE_* variables are not read. A
// project without Cargo.toml has an empty profile.
func ReadUserProfile(dir string) (UserProfile, error) {
	manifest, err := rootManifest(dir)
	if err != nil || manifest == "" {
		return UserProfile{}, err
	}
	up := UserProfile{Values: map[string]string{}}
	configs, err := cargoConfigs(dir)
	if err != nil {
		return UserProfile{}, err
	}
	// Least binding first, so that each later file overwrites its keys.
	for _, f := range append([]string{manifest}, configs...) {
		release, err := readRelease(f)
		if err != nil {
			return UserProfile{}, err
		}
		for k, v := range release {
			up.Values[k] = tomlLiteral(v)
		}
	}
	return up, nil
}

// readRelease returns the [profile.release] table of a Cargo.toml or a
// Cargo configuration file.
func readRelease(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	var doc struct {
		Profile struct {
			Release map[string]any `toml:"release"`
		} `toml:"profile"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid TOML: %v: fix it so cargo can read it", path, err)
	}
	return doc.Profile.Release, nil
}

// cargoConfigs are the Cargo configuration files cargo run in dir reads
// from dir and its parents, furthest first: .cargo/config.toml, or the
// older .cargo/config when a folder has no config.toml.
func cargoConfigs(dir string) ([]string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var found []string
	for d := abs; ; d = filepath.Dir(d) {
		for _, name := range []string{"config.toml", "config"} {
			p := filepath.Join(d, ".cargo", name)
			st, err := os.Stat(p)
			if err == nil && st.Mode().IsRegular() {
				found = append(found, p)
				break
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				return nil, fmt.Errorf("reading %s: %w", p, err)
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	slices.Reverse(found)
	return found, nil
}

// rootManifest finds the manifest whose profiles Cargo uses for dir: the
// workspace root's, since Cargo ignores a member's profiles.
func rootManifest(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	own := ""
	for d := abs; ; d = filepath.Dir(d) {
		m := filepath.Join(d, "Cargo.toml")
		data, err := os.ReadFile(m)
		switch {
		case err == nil:
			var doc map[string]any
			if toml.Unmarshal(data, &doc) == nil {
				if _, ok := doc["workspace"]; ok {
					return m, nil
				}
			}
			if own == "" {
				own = m
			}
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("reading %s: %w", m, err)
		}
		if filepath.Dir(d) == d {
			return own, nil
		}
	}
}

// tomlLiteral writes a decoded scalar TOML value back as Cargo's
// --config takes it.
func tomlLiteral(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	// Tables (package.NAME, build-override) are no tuned key's value.
	return fmt.Sprint(v)
}

// tunedProfileArgs are cargo's --config arguments for the tuned profile
// keys the user's profile leaves unset, and, sorted, the user's values
// that differ from the tuned ones ("opt-level = 2"), which are kept (a
// project that sets fnopt's own values, as `fnopt new` writes them, keeps
// nothing worth saying).
func tunedProfileArgs(up UserProfile) (args, kept []string) {
	for _, k := range settings.RustProfile() {
		if v, ok := up.Values[k.Key]; ok {
			if v != k.Value {
				kept = append(kept, k.Key+" = "+v)
			}
			continue
		}
		args = append(args, "--config", "profile.release."+k.Key+"="+k.Value)
	}
	sort.Strings(kept)
	return args, kept
}
