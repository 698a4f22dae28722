package buildcmd

import (
	"strings"
	"testing"

	"github.com/fnopt/fnopt/internal/schematest"
)

// The --json report validates against the published schema, with and
// without an image: changing a field breaks this test before it breaks a
// user's script.
func TestJSONMatchesSchema(t *testing.T) {
	sch := schematest.Load(t, "build.v1.schema.json")
	dir := project(t, nil)
	for _, args := range [][]string{{dir}, {dir, "--package", "image"}} {
		code, out, errOut := run(t, append(args, "--json")...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		sch.Validate(t, []byte(out))
	}
	// The schema is strict enough to catch a broken report.
	for _, bad := range []string{
		`{"schema":"fnopt.build/v1","fnopt_version":"v1.0.0","name":"x","language":"go","arch":"arm64","settings":{"command":"c","package":"."},"bootstrap":{"path":"p","bytes":1,"sha256":"zz"},"zip":{"path":"p","bytes":1}}`,
		`{"schema":"fnopt.build/v1","name":"x","language":"go","arch":"arm64","settings":{"command":"c","package":"."},"bootstrap":{"path":"p","bytes":1,"sha256":"` + strings.Repeat("0", 64) + `"},"zip":{"path":"p","bytes":1,"sha256":"` + strings.Repeat("0", 64) + `"}}`,
		`{"schema":"fnopt.build/v1","fnopt_version":"v1.0.0","name":"x","language":"go","arch":"arm64","unknown":1,"settings":{"command":"c","package":"."},"bootstrap":{"path":"p","bytes":1,"sha256":"` + strings.Repeat("0", 64) + `"},"zip":{"path":"p","bytes":1,"sha256":"` + strings.Repeat("0", 64) + `"}}`,
	} {
		if sch.Check([]byte(bad)) == nil {
			t.Errorf("a broken report validates: %s", bad)
		}
	}
}
