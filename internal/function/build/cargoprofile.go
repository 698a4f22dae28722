package build

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/pelletier/go-toml/v2"

	"github.com/fnopt/fnopt/internal/function/settings"
)

// UserProfile is the [profile.release] the project's own Cargo.toml sets:
// the values fnopt keeps rather than overrides, because `cargo --config`
// would take precedence over the manifest.
type UserProfile struct {
	// Manifest is the Cargo.toml that holds the profile Cargo applies:
	// the workspace root's, since Cargo ignores a member's profiles.
	Manifest string
	// Values are the keys it sets, as TOML literals (opt-level = 2 is
	// "2", "s" is `"s"`).
	Values map[string]string
}

// ReadUserProfile reads the release profile Cargo will apply to the
// package in dir: the [profile.release] of the nearest Cargo.toml up from
// dir that declares a [workspace], else of dir's own Cargo.toml. A
// project without Cargo.toml has an empty profile.
func ReadUserProfile(dir string) (UserProfile, error) {
	manifest, err := rootManifest(dir)
	if err != nil || manifest == "" {
		return UserProfile{}, err
	}
	data, err := os.ReadFile(manifest)
	if err != nil {
		return UserProfile{}, fmt.Errorf("reading %s: %w", manifest, err)
	}
	var doc struct {
		Profile struct {
			Release map[string]any `toml:"release"`
		} `toml:"profile"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		return UserProfile{}, fmt.Errorf("%s is not valid TOML: %v: fix it so cargo can read it", manifest, err)
	}
	up := UserProfile{Manifest: manifest, Values: map[string]string{}}
	for k, v := range doc.Profile.Release {
		up.Values[k] = tomlLiteral(v)
	}
	return up, nil
}

// rootManifest finds the manifest whose profiles Cargo uses for dir.
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
