// Package environ is a function's own environment variables, as Lambda's
// function configuration holds them: read from a SAM template's
// Environment, fnopt.yaml's env, env files (docker's --env-file format)
// and KEY=VALUE pairs, merged in that order (a later source wins), and
// checked against the names Lambda reserves for itself.
package environ

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// reserved are the variables Lambda sets itself and refuses in a
// function's configuration ("Defined runtime environment variables",
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-runtime.html);
// fnopt's emulator sets them too, so a value given here would be a value
// Lambda never lets the function see.
var reserved = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true,
	"AWS_DEFAULT_REGION": true, "AWS_REGION": true, "AWS_EXECUTION_ENV": true,
	"AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true,
	"AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true,
	"AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true,
	"AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true, "TZ": true,
}

// unreservedLambda are the AWS_LAMBDA_ names a function may set (the
// same page's "unreserved" list); every other AWS_LAMBDA_ name is
// Lambda's own.
var unreservedLambda = map[string]bool{"AWS_LAMBDA_EXEC_WRAPPER": true}

// keyPattern is the Lambda API's pattern for a variable's name
// (Environment.Variables in CreateFunction): a letter, then at least one
// letter, digit or underscore.
var keyPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

// CheckKey refuses a name Lambda would refuse: one it reserves, or one
// that does not match its pattern.
func CheckKey(key string) error {
	if reserved[key] || strings.HasPrefix(key, "AWS_LAMBDA_") && !unreservedLambda[key] {
		return fmt.Errorf("%s is reserved: Lambda sets it itself and refuses it in a function's environment", key)
	}
	if !keyPattern.MatchString(key) {
		return fmt.Errorf("%q is not a name Lambda accepts: a letter, then letters, digits or underscores (two characters at least)", key)
	}
	return nil
}

// Var is one variable and where it was set.
type Var struct {
	Key, Value string
	// From names the source ("template.yaml", "fnopt.yaml", a file,
	// "the command line").
	From string
}

// Env is a function's variables in the order they were first set; a
// later Set of the same name replaces the value where it stands.
type Env struct {
	vars []Var
}

// Set adds or replaces one variable.
func (e *Env) Set(v Var) {
	for i := range e.vars {
		if e.vars[i].Key == v.Key {
			e.vars[i] = v
			return
		}
	}
	e.vars = append(e.vars, v)
}

// Vars are the variables, in order.
func (e *Env) Vars() []Var { return append([]Var(nil), e.vars...) }

// List is the variables as KEY=VALUE, in order.
func (e *Env) List() []string {
	out := make([]string, 0, len(e.vars))
	for _, v := range e.vars {
		out = append(out, v.Key+"="+v.Value)
	}
	return out
}

// Lookup finds a variable of the caller's own environment, for names given
// without a value (docker's --env NAME and a bare NAME line of an env
// file); os.LookupEnv in a command.
type Lookup func(key string) (string, bool)

// ParsePair reads one KEY=VALUE. A bare KEY takes its value from lookup,
// as docker's --env does, and is left out (ok false) when lookup has none.
func ParsePair(s string, lookup Lookup) (v Var, ok bool, err error) {
	key, value, hasValue := strings.Cut(s, "=")
	if err := CheckKey(key); err != nil {
		return Var{}, false, err
	}
	if !hasValue {
		if lookup == nil {
			return Var{}, false, nil
		}
		if value, ok = lookup(key); !ok {
			return Var{}, false, nil
		}
	}
	return Var{Key: key, Value: value}, true, nil
}

// ReadFile reads an env file as docker's --env-file reads it: one
// KEY=VALUE a line, taken as written (no quotes removed, no expansion);
// lines starting with # and blank lines are skipped; a bare KEY takes its
// value from lookup, and is skipped when lookup has none.
func ReadFile(path string, lookup Lookup) ([]Var, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the env file: %w", err)
	}
	var out []Var
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimSuffix(line, "\r")
		v, ok, err := ParsePair(line, lookup)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		if ok {
			v.From = path
			out = append(out, v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}
