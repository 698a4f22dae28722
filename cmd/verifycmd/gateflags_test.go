package verifycmd

import (
	"strings"
	"testing"
)

// TestGateFlagsWithoutGate: a flag that only the gate acts on, in a run
// without a gate, is refused with one line (exit 2), before anything is
// measured, instead of being ignored.
func TestGateFlagsWithoutGate(t *testing.T) {
	boot := bootstrap(t, "echo")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--format", "markdown"}, "fnopt: --format is a gate flag: add --against REV or --baseline FILE (or --save-baseline FILE)\n"},
		{[]string{"--plot", "init.svg"}, "fnopt: --plot is a gate flag: add --against REV or --baseline FILE (or --save-baseline FILE)\n"},
		{[]string{"--format", "json", "--alpha", "0.01"}, "fnopt: --format, --alpha are gate flags: add --against REV or --baseline FILE (or --save-baseline FILE)\n"},
		{[]string{"--serve", "--strict"}, "fnopt: --strict is a gate flag: add --against REV or --baseline FILE (or --save-baseline FILE)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := execute(t, append([]string{boot, "--samples", "1"}, tt.args...)...)
			if code != 2 || errOut != tt.want || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2, nothing, %q", code, out, errOut, tt.want)
			}
		})
	}
}
