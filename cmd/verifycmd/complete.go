package verifycmd

import (
	"github.com/spf13/cobra"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/settings"
	"github.com/fnopt/fnopt/verify/gate"
)

// complete registers the shell completion of verify's flag values, its
// extensions' included, from the lists their parsers check against.
func complete(cmd *cobra.Command) {
	cmdutil.CompleteNothing(cmd, "expect")
	cmdutil.CompleteNothing(cmd, "listen")
	cmdutil.CompleteDirs(cmd, "main")
	// The gate (gate.go).
	cmdutil.CompleteFiles(cmd, "baseline", "json")
	cmdutil.CompleteFiles(cmd, "save-baseline", "json")
	cmdutil.CompleteFiles(cmd, "plot", "svg", "png")
	cmdutil.CompleteNothing(cmd, "against")
	cmdutil.CompleteChoices(cmd, "gate-metric", gate.GateMetricNames())
	cmdutil.CompleteChoices(cmd, "format", gate.Formats)
	// AWS Lambda (aws.go).
	cmdutil.CompleteChoices(cmd, "target", targets)
	cmdutil.CompleteChoiceList(cmd, "arch", settings.Arches)
}
