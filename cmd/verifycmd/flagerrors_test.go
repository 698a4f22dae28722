package verifycmd

import (
	"errors"
	"testing"

	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/oci/image"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/gate"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestFlagErrors: the libraries' errors come out with the flag a user
// typed, in the words fnopt verify has always used.
func TestFlagErrors(t *testing.T) {
	other := errors.New("something else")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"image for another arch", prepareError(&verify.ImageArchError{Image: "oci:x", Arch: "arm64", Host: settings.X86_64}),
			"image oci:x is for arm64 and this machine is x86_64: verify runs images of this machine's architecture; build one with --arch x86_64"},
		{"index without this machine's image", prepareError(&image.PlatformError{Want: v1.Platform{OS: "linux", Architecture: "amd64"}, Have: []string{"linux/arm64"}, Default: true}),
			"no linux/amd64 (this machine's) image in the index; it has linux/arm64: verify runs images of this machine's architecture; build one with --arch " + string(settings.HostArch())},
		{"prepare other", prepareError(other), "something else"},
		{"no git", againstError(gate.ErrNoGit), "--against needs git, which is not installed"},
		{"not in a repository", againstError(&gate.NotInRepositoryError{Dir: "fn"}), "--against needs a git repository: fn is not inside one"},
		{"missing at revision", againstError(&gate.MissingAtRevisionError{Path: "fn", Commit: "0123456789abcdef0123"}),
			"fn does not exist at 0123456789ab; --against needs a revision that has the function"},
		{"against other", againstError(other), "something else"},
		{"not a baseline", baselineError(&gate.SchemaError{Path: "b.json", Schema: "other"}),
			`baseline b.json has schema "other", want "fnopt.baseline/v1": save it with ` + "`fnopt verify --save-baseline`"},
		{"another version's baseline", baselineError(&gate.SchemaError{Path: "b.json", Schema: "fnopt.baseline/v2"}),
			`baseline b.json has schema "fnopt.baseline/v2", want "fnopt.baseline/v1": it was written by another fnopt version; save it again with this one`},
		{"baseline other", baselineError(other), "something else"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
