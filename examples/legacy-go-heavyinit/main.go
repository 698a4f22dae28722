// Command moderation checks a message against the moderation rules and
// answers with a verdict.
package main

import (
	"context"
	"strings"
	"text/template"

	"github.com/aws/aws-lambda-go/lambda"

	"example.com/moderation/rules"
)

// Message is the event.
type Message struct {
	Text string `json:"text"`
}

// Verdict is the answer.
type Verdict struct {
	Allowed bool   `json:"allowed"`
	Rule    int    `json:"rule"`
	Reply   string `json:"reply"`
}

var reply = template.Must(template.New("reply").Parse(`{{if .Allowed}}ok{{else}}blocked by rule {{.Rule}}{{end}}`))

func handle(ctx context.Context, m Message) (Verdict, error) {
	v := Verdict{Rule: rules.Match(m.Text)}
	v.Allowed = v.Rule < 0
	var b strings.Builder
	if err := reply.Execute(&b, v); err != nil {
		return Verdict{}, err
	}
	v.Reply = b.String()
	return v, nil
}

func main() {
	lambda.Start(handle)
}
