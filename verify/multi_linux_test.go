package verify

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/fnopt/fnopt/internal/dist"
	"github.com/fnopt/fnopt/internal/function/build"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/internal/testenv"
)

// namedFunction is a Go function with no dependencies that answers every
// event with {"fn":name}, so the answer says which program ran. decl
// declares name; constraint is the file's build constraint line, if any.
func namedFunction(constraint, decl string) string {
	return constraint + testenv.Function(nil, decl+`

func answer([]byte) []byte { return []byte("{\"fn\":\"" + name + "\"}") }`)
}

// twoFunctionRepo is a repository as SAM or ko users lay one out: one Go
// module, the programs under cmd/, and a folder per function holding its
// fnopt.yaml, which names its main package relative to itself. orders
// needs its build tag to be a main package at all and gets its name from
// its ldflags; payments' name is a constant.
func twoFunctionRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	arch := string(settings.HostArch())
	files := map[string]string{
		"go.mod":               "module example.com/shop\n\ngo 1.22\n",
		"cmd/orders/main.go":   namedFunction("//go:build orders\n\n", `var name = "unset"`),
		"cmd/payments/main.go": namedFunction("", `const name = "payments"`),
		"orders/fnopt.yaml":    "name: orders\nlanguage: go\narch: " + arch + "\nbuild:\n  main: ../cmd/orders\n  tags: [orders]\n  ldflags: -X main.name=orders\n",
		"payments/fnopt.yaml":  "name: payments\nlanguage: go\narch: " + arch + "\nbuild:\n  main: ../cmd/payments\n",
	}
	for name, data := range files {
		testenv.WriteFile(t, filepath.Join(dir, filepath.FromSlash(name)), data)
	}
	return dir
}

// A repository with two functions builds and verifies each by its
// fnopt.yaml's build keys, and Program (--main) overrides the key.
func TestTwoFunctionsInOneRepository(t *testing.T) {
	repo := twoFunctionRepo(t)
	cases := []struct {
		fn, program, want, compiled string
	}{
		{"orders", "", `{"fn":"orders"}`, "../cmd/orders"},
		{"payments", "", `{"fn":"payments"}`, "../cmd/payments"},
		// The flag picks the other program; orders' tags and ldflags
		// still apply and do no harm.
		{"orders", "../cmd/payments", `{"fn":"payments"}`, "../cmd/payments"},
	}
	for _, c := range cases {
		t.Run(c.fn+"/"+c.program, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			dir := filepath.Join(repo, c.fn)
			out := t.TempDir()
			res, err := dist.Produce(ctx, dir, dist.Options{OutDir: out, Program: c.program})
			if err != nil {
				var ce *build.CompileError
				if errors.As(err, &ce) {
					t.Logf("%s", ce.Output)
				}
				t.Fatalf("build: %v", err)
			}
			if res.Compiled != c.compiled {
				t.Errorf("compiled %q, want %q", res.Compiled, c.compiled)
			}
			// What was built answers as the right function, and so does
			// a verify of the project folder (built again, its own way).
			for _, target := range []string{res.Zip.Path, dir} {
				v, err := Verify(ctx, target, PrepareOptions{Program: c.program}, Options{Samples: 1, Expect: mustExpect(t, c.want)})
				if err != nil {
					t.Fatalf("verify %s: %v", target, err)
				}
				if !v.Run.OK() {
					t.Errorf("verify %s: the answer is not %s: %+v", target, c.want, v.Run.Failure)
				}
			}
		})
	}
}
