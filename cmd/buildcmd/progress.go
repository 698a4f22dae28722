package buildcmd

import (
	"github.com/schollz/progressbar/v3"

	"github.com/fnopt/fnopt/cmd/cmdutil"
)

// progress shows a spinner with the current step on standard error, only
// when it is a terminal (never in logs, pipes or --json consumers' files)
// and not while the compiler's output is streamed there.
type progress struct {
	ios     *cmdutil.IOStreams
	enabled bool
	bar     *progressbar.ProgressBar
}

func newProgress(ios *cmdutil.IOStreams, verbose bool) *progress {
	return &progress{ios: ios, enabled: ios.ShowProgress() && !verbose}
}

// step starts showing what is being done now.
func (p *progress) step(what string) {
	if !p.enabled {
		return
	}
	if p.bar == nil {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(p.ios.ErrOut),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionSetDescription(what),
		)
		return
	}
	p.bar.Describe(what)
}

// stop clears the spinner; step may start a new one.
func (p *progress) stop() {
	if p.bar == nil {
		return
	}
	p.bar.Finish()
	p.bar = nil
}
