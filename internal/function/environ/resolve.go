package environ

import (
	"fmt"
	"sort"
)

// Sources are where a function's environment comes from, in order: each
// later source wins over the ones before it.
type Sources struct {
	// Dir is the project folder whose SAM template applies first; "" for
	// a target that is not a project.
	Dir string
	// Name is the project's name; it picks the function among several in
	// the template (see ReadTemplate).
	Name string
	// Config is fnopt.yaml's env, applied in the order of its names.
	Config map[string]string
	// Files are env files (see ReadFile), in order.
	Files []string
	// Pairs are KEY=VALUE settings (see ParsePair), in order.
	Pairs []string
	// Lookup gives bare names in Files and Pairs their value.
	Lookup Lookup
}

// PairError is a refused entry of Sources.Pairs.
type PairError struct {
	Pair string
	Err  error
}

func (e *PairError) Error() string { return e.Pair + ": " + e.Err.Error() }
func (e *PairError) Unwrap() error { return e.Err }

// Resolved is a function's environment and where it came from.
type Resolved struct {
	Env Env
	// Template is what the project's SAM template gave (nil without a
	// project); its Skipped variables are not in Env.
	Template *Template
}

// Resolve merges the sources into one environment. A reserved or
// malformed name in any of them is an error that names its source.
func Resolve(s Sources) (*Resolved, error) {
	r := &Resolved{}
	if s.Dir != "" {
		t, err := ReadTemplate(s.Dir, s.Name)
		if err != nil {
			return nil, err
		}
		for _, v := range t.Vars {
			if err := CheckKey(v.Key); err != nil {
				return nil, fmt.Errorf("%s: %w", t.File, err)
			}
			r.Env.Set(v)
		}
		r.Template = t
	}
	keys := make([]string, 0, len(s.Config))
	for k := range s.Config {
		keys = append(keys, k)
	}
	// A YAML mapping's order is not kept by decoding it: sorted, so that
	// the environment is the same on every run.
	sort.Strings(keys)
	for _, k := range keys {
		if err := CheckKey(k); err != nil {
			return nil, fmt.Errorf("fnopt.yaml env: %w", err)
		}
		r.Env.Set(Var{Key: k, Value: s.Config[k], From: "fnopt.yaml"})
	}
	for _, f := range s.Files {
		vars, err := ReadFile(f, s.Lookup)
		if err != nil {
			return nil, err
		}
		for _, v := range vars {
			r.Env.Set(v)
		}
	}
	for _, p := range s.Pairs {
		v, ok, err := ParsePair(p, s.Lookup)
		if err != nil {
			return nil, &PairError{Pair: p, Err: err}
		}
		if ok {
			v.From = "the command line"
			r.Env.Set(v)
		}
	}
	return r, nil
}
