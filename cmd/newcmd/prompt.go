package newcmd

import (
	"errors"
	"io"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// Question is one thing `fnopt new` asks.
type Question struct {
	Message string
	Help    string // one line, shown on '?'
	Default string
}

// Prompter asks questions. The survey implementation talks to the
// terminal; tests pass their own.
type Prompter interface {
	// Input asks for free text; validate, when non-nil, rejects answers.
	Input(q Question, validate func(string) error) (string, error)
	// Select asks for one of choices; describe gives each a short note.
	Select(q Question, choices []string, describe func(string) string) (string, error)
}

// errCancelled is returned when the user interrupts a question.
var errCancelled = errors.New("cancelled: nothing was written")

type surveyPrompter struct {
	opts []survey.AskOpt
}

// newSurveyPrompter returns a Prompter on the given terminal streams, or
// nil when they are not files (survey needs file descriptors).
func newSurveyPrompter(in io.Reader, out, errOut io.Writer) Prompter {
	fin, ok1 := in.(terminal.FileReader)
	fout, ok2 := out.(terminal.FileWriter)
	if !ok1 || !ok2 {
		return nil
	}
	return &surveyPrompter{opts: []survey.AskOpt{survey.WithStdio(fin, fout, errOut)}}
}

func (p *surveyPrompter) Input(q Question, validate func(string) error) (string, error) {
	var ans string
	opts := p.opts
	if validate != nil {
		opts = append(opts[:len(opts):len(opts)], survey.WithValidator(func(v interface{}) error {
			s, _ := v.(string)
			return validate(s)
		}))
	}
	err := survey.AskOne(&survey.Input{Message: q.Message, Help: q.Help, Default: q.Default}, &ans, opts...)
	return ans, surveyErr(err)
}

func (p *surveyPrompter) Select(q Question, choices []string, describe func(string) string) (string, error) {
	var ans string
	sel := &survey.Select{Message: q.Message, Help: q.Help, Options: choices, Default: q.Default}
	if describe != nil {
		sel.Description = func(value string, _ int) string { return describe(value) }
	}
	err := survey.AskOne(sel, &ans, p.opts...)
	return ans, surveyErr(err)
}

func surveyErr(err error) error {
	if errors.Is(err, terminal.InterruptErr) {
		return errCancelled
	}
	return err
}
