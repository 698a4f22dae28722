package buildcmd

import (
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/dist"
)

// progressDelay is how long a step runs before the spinner appears:
// quick steps (a cached build, a zip) do not flash one.
const progressDelay = 300 * time.Millisecond

// progress shows a spinner with the current step on standard error, only
// when it is a terminal (never in logs, pipes or --json consumers' files)
// and not while the compiler's output is streamed there. dist.Produce
// drives it.
type progress struct {
	ios     *cmdutil.IOStreams
	enabled bool

	mu    sync.Mutex
	what  string
	timer *time.Timer
	bar   *progressbar.ProgressBar
}

var _ dist.Progress = (*progress)(nil)

func newProgress(ios *cmdutil.IOStreams, verbose bool) *progress {
	return &progress{ios: ios, enabled: ios.ShowProgress() && !verbose}
}

// Step says what is being done now; the spinner shows it once the work
// has lasted progressDelay.
func (p *progress) Step(what string) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.what = what
	if p.bar != nil {
		p.bar.Describe(what)
		return
	}
	if p.timer == nil {
		p.timer = time.AfterFunc(progressDelay, p.show)
	}
}

func (p *progress) show() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer == nil || p.bar != nil {
		return // stopped meanwhile
	}
	p.bar = progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(p.ios.ErrOut),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetDescription(p.what),
	)
}

// Clear clears the spinner; a later step starts a new one.
func (p *progress) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}
