package environ

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// TemplateNames are the SAM template files read, in the order `sam`
// looks for them.
var TemplateNames = []string{"template.yaml", "template.yml"}

// Skipped is a template variable whose value is a CloudFormation
// intrinsic (a reference to a parameter or another resource), which only
// a deployment resolves.
type Skipped struct {
	// Key is the variable; "" when the whole Environment of Of is not a
	// mapping of variables.
	Key string
	// Of is whose Environment it is: "Globals" or the function's logical
	// ID.
	Of string
	// Why is the intrinsic (!Ref, Fn::Sub, ...) or what else the value is.
	Why string
}

// Template is the environment a SAM template gives the project's
// function: Globals.Function.Environment.Variables, then the function's
// own Environment.Variables (the function's value wins, as in SAM).
type Template struct {
	// File is the template's name in the project; "" when it has none.
	File string
	// Function is the logical ID whose variables were applied; "" when
	// only Globals were (the template declares no function, or several
	// and none is named after the project).
	Function string
	// Functions are the logical IDs of the functions the template
	// declares, when there are several.
	Functions []string
	Vars      []Var
	Skipped   []Skipped
}

// ReadTemplate reads the SAM template in dir, if there is one. name is
// the project's name (fnopt.yaml's name): with several functions in the
// template, the one whose logical ID is the name (as `fnopt new` writes
// it: HelloWorldFunction for hello-world) is the project's.
func ReadTemplate(dir, name string) (*Template, error) {
	t := &Template{}
	var data []byte
	for _, n := range TemplateNames {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", n, err)
		}
		t.File, data = n, b
		break
	}
	if t.File == "" {
		return t, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s is not valid YAML (%s): fix it, or move it aside", t.File, strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: "), "\n", "; "))
	}
	if len(doc.Content) == 0 {
		return t, nil
	}
	root := doc.Content[0]
	type fn struct {
		id  string
		sam bool
		env *yaml.Node
	}
	var fns []fn
	if res := value(root, "Resources"); res != nil && res.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(res.Content); i += 2 {
			typ := scalar(value(res.Content[i+1], "Type"))
			if typ == "AWS::Serverless::Function" || typ == "AWS::Lambda::Function" {
				fns = append(fns, fn{res.Content[i].Value, typ == "AWS::Serverless::Function", value(value(res.Content[i+1], "Properties"), "Environment")})
			}
		}
	}
	var chosen *fn
	switch {
	case len(fns) == 1:
		chosen = &fns[0]
	case len(fns) > 1:
		for i := range fns {
			t.Functions = append(t.Functions, fns[i].id)
			if fns[i].id == name || fns[i].id == LogicalID(name) {
				chosen = &fns[i]
			}
		}
		sort.Strings(t.Functions)
	}
	if chosen == nil || chosen.sam {
		t.add(value(value(value(root, "Globals"), "Function"), "Environment"), "Globals")
	}
	if chosen != nil {
		t.Function = chosen.id
		t.add(chosen.env, chosen.id)
	}
	return t, nil
}

// add applies one Environment mapping's Variables.
func (t *Template) add(env *yaml.Node, where string) {
	if env == nil {
		return
	}
	vars := value(env, "Variables")
	if env.Kind != yaml.MappingNode || vars != nil && vars.Kind != yaml.MappingNode {
		t.Skipped = append(t.Skipped, Skipped{Of: where, Why: intrinsic(env)})
		return
	}
	if vars == nil {
		return
	}
	var e Env
	for _, v := range t.Vars {
		e.Set(v)
	}
	for i := 0; i+1 < len(vars.Content); i += 2 {
		key, val := vars.Content[i].Value, vars.Content[i+1]
		if why := intrinsic(val); why != "" {
			t.Skipped = append(t.Skipped, Skipped{Key: key, Of: where, Why: why})
			continue
		}
		e.Set(Var{Key: key, Value: val.Value, From: t.File})
	}
	t.Vars = e.Vars()
}

// intrinsic says why a value is not a plain string ("" when it is): a
// short-form intrinsic (!Ref, !Sub, ...), a long form ({Ref: ...},
// {Fn::Sub: ...}), or another kind of YAML value.
func intrinsic(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Tag, "!!"):
		if n.Tag == "!!null" {
			return "null"
		}
		return ""
	case n.Kind == yaml.ScalarNode || n.Tag != "" && !strings.HasPrefix(n.Tag, "!!"):
		return n.Tag
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		if k := n.Content[0].Value; k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k
		}
	}
	return "not a string"
}

// LogicalID is the CloudFormation logical ID `fnopt new` gives a
// function named name: its words capitalised and joined, then
// "Function" (hello-world becomes HelloWorldFunction).
func LogicalID(name string) string {
	var b strings.Builder
	up := true
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9':
			if up {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String() + "Function"
}

func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
