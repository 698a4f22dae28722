package newcmd

import (
	"github.com/fnopt/fnopt/internal/function/config"
	"github.com/fnopt/fnopt/templates"
)

// question is what is asked for one option, with a note per choice.
type question struct {
	option string
	Question
	notes map[string]string
}

// questions are asked in this order.
func questions() []question {
	return []question{
		{"lang", Question{Message: "Language:", Help: "Rust makes the smallest, fastest-starting functions; Go builds faster and is simpler."},
			map[string]string{"go": "Go", "rust": "Rust (cargo, smallest binary)"}},
		{"event", Question{Message: "Event source:", Help: "What invokes the function; the handler, its test and template.yaml are written for it."},
			map[string]string{
				"raw": "any JSON in and out (direct invoke)", "http": "API Gateway HTTP API", "url": "Lambda function URL",
				"sqs": "SQS queue, partial batch failures", "s3": "S3 object notifications", "eventbridge": "EventBridge rule or schedule",
			}},
		{"arch", Question{Message: "Architecture:", Help: "arm64 (Graviton) costs about 20% less per GB-second and starts at least as fast."},
			map[string]string{"arm64": "Graviton, cheaper", "x86_64": "Intel/AMD"}},
		{"package", Question{Message: "Packaging:", Help: "A zip on the provided.al2023 runtime, or a container image fnopt builds without Docker."},
			map[string]string{"zip": "dist/function.zip", "image": "container image (ECR)"}},
		{"client", Question{Message: "Runtime client:", Help: "minimal is a small Runtime API client written into your project: smaller and faster to start than AWS's library."},
			nil}, // clientNotes: they depend on the language

	}
}

// ask asks for every option the flags left open. The name is asked unless
// --name was given; a PATH supplies its default.
func ask(p Prompter, o *templates.Options, given map[string]bool, havePath bool) error {
	if !given["name"] {
		def := o.Name
		if !havePath {
			def = "hello"
		}
		name, err := p.Input(Question{
			Message: "Function name:",
			Help:    "Lower-case letters, digits, '-' and '_'; it names the folder (without PATH), the module and the stack resource.",
			Default: def,
		}, templates.ValidateName)
		if err != nil {
			return err
		}
		o.Name = name
	}
	for _, q := range questions() {
		if given[q.option] {
			continue
		}
		qq := q.Question
		qq.Default = templates.Choices[q.option][0]
		notes := q.notes
		if q.option == "client" {
			notes = clientNotes(o.Lang)
		}
		ans, err := p.Select(qq, templates.Choices[q.option], func(v string) string { return notes[v] })
		if err != nil {
			return err
		}
		if err := o.Set(q.option, ans); err != nil {
			return optionError(err)
		}
	}
	if o.Lang == config.Rust && !given["link"] {
		ans, err := p.Select(Question{
			Message: "Link glibc:",
			Help: "dynamic uses the glibc Lambda's provided.al2023 has: the smallest zip. static puts glibc in the bootstrap: " +
				"no dynamic loader to run at start, but about 400 KB more in a minimal function's zip. fnopt.yaml's build.link keeps the choice.",
			Default: templates.Choices["link"][0],
		}, templates.Choices["link"], func(v string) string { return linkNotes[v] })
		if err != nil {
			return err
		}
		if err := o.Set("link", ans); err != nil {
			return optionError(err)
		}
	}
	if o.Lang == config.Go && !given["module"] {
		// The default is --module's: the function's name.
		mod, err := p.Input(Question{
			Message: "Go module path:",
			Help:    "The path go.mod declares and imports start with, such as github.com/you/" + o.Name + "; the name alone is fine for a function that is never imported.",
			Default: o.Name,
		}, templates.ValidateModule)
		if err != nil {
			return err
		}
		o.Module = mod
	}
	return nil
}

// linkNotes say what each link of a Rust bootstrap brings.
var linkNotes = map[string]string{
	"dynamic": "glibc from Lambda's runtime: smallest zip",
	"static":  "glibc inside the bootstrap: no loader at start, bigger zip",
}

// clientNotes say what each runtime client links in a function of lang,
// as the templates write its go.mod or Cargo.toml
// (templates/files/*/common).
func clientNotes(lang config.Language) map[string]string {
	if lang == "rust" {
		return map[string]string{
			"official": "AWS's lambda_runtime on tokio and hyper, serde_json, and aws_lambda_events for events other than raw",
			"minimal":  "a small client in the project: std, serde and serde_json, no async runtime; fastest start",
		}
	}
	return map[string]string{
		"official": "AWS's github.com/aws/aws-lambda-go",
		"minimal":  "a small client in the project: Go standard library only; fastest start",
	}
}
