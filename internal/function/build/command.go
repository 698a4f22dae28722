package build

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// GracePeriod is how long a compiler's processes have to stop once the
// build is cancelled, before they are killed.
const GracePeriod = 5 * time.Second

// RunCompiler runs a compiler (go, cargo) the way every fnopt build does.
// cmd must come from exec.CommandContext. When the context ends, the
// compiler and the processes it started are stopped gently, then killed
// after GracePeriod (stopGently). The compiler gets a temporary folder of
// its own (TMPDIR, and GOTMPDIR for the go command's work folder), removed
// when it ends, however it ends: the go command removes its go-build*
// folder only when it finishes, not when it is interrupted, and rustc
// leaves its own behind when it is killed.
func RunCompiler(cmd *exec.Cmd) error {
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	scratch, err := os.MkdirTemp(tempRoot(env), "fnopt-build-")
	if err != nil {
		return fmt.Errorf("creating a temporary folder for %s: %w", cmd.Args[0], err)
	}
	defer os.RemoveAll(scratch)
	cmd.Env = append(env, "TMPDIR="+scratch, "GOTMPDIR="+scratch)
	killRest := stopGently(cmd)
	err = cmd.Run()
	killRest()
	return err
}

// tempRoot is where the compiler's environment puts temporary files: its
// last TMPDIR, or the system's.
func tempRoot(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "TMPDIR="); ok && v != "" {
			return v
		}
	}
	return os.TempDir()
}
