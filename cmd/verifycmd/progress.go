package verifycmd

import (
	"github.com/schollz/progressbar/v3"

	"github.com/fnopt/fnopt/cmd/cmdutil"
)

// progress shows what verify does on standard error, only on a terminal:
// a spinner while preparing, then a bar over the samples.
type progress struct {
	ios *cmdutil.IOStreams
	bar *progressbar.ProgressBar
}

func newProgress(ios *cmdutil.IOStreams, what string) *progress {
	p := &progress{ios: ios}
	if ios.ShowProgress() {
		p.bar = progressbar.NewOptions(-1,
			progressbar.OptionSetWriter(ios.ErrOut),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionSetDescription(what),
		)
	}
	return p
}

// samples is verify.Options.Progress.
func (p *progress) samples(done, total int) {
	if !p.ios.ShowProgress() {
		return
	}
	if p.bar == nil || p.bar.GetMax() != total {
		p.stop()
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.ios.ErrOut),
			progressbar.OptionSetDescription("cold starts"),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	_ = p.bar.Set(done)
}

func (p *progress) stop() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
