package verifycmd

import (
	"fmt"
	"strings"
)

// gateOnlyFlags are the flags that say how the gate compares and reports:
// without --against, --baseline or --save-baseline there is nothing for
// them to act on.
var gateOnlyFlags = []string{"format", "plot", "max-regression", "min-delta", "max-size-growth", "alpha", "gate-metric", "max-samples", "strict"}

// inactiveChecker is an Extension whose flags mean nothing unless it is
// active: the command refuses them, rather than ignore what the user
// asked for (a Markdown report, a plot) and print something else.
type inactiveChecker interface {
	CheckInactive() error
}

// CheckInactive refuses the gate's own flags in a run without a gate.
func (g *gateExt) CheckInactive() error {
	var used []string
	for _, name := range gateOnlyFlags {
		if g.flags.Changed(name) {
			used = append(used, "--"+name)
		}
	}
	switch len(used) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s is a gate flag: add --against REV or --baseline FILE (or --save-baseline FILE)", used[0])
	}
	return fmt.Errorf("%s are gate flags: add --against REV or --baseline FILE (or --save-baseline FILE)", strings.Join(used, ", "))
}
