package inittrace

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/types/typeutil"
)

// Site is a piece of work done at init: a call in an init function or in
// a package-level variable's initialiser.
type Site struct {
	File string `json:"file"` // relative to the module
	Line int    `json:"line"`
	// Where is what runs it: "var rules" or "func init".
	Where string `json:"where"`
	// Kind is regexp, template, sdk-client, file-io, network, json,
	// certificates, timezone, database or call.
	Kind string `json:"kind"`
	// What is the call, with the chain of the user's functions leading to
	// it: "compileRules → regexp.MustCompile (rules.go:40)".
	What       string `json:"what"`
	Suggestion string `json:"suggestion"`
}

// knownCall classifies calls to well-known packages that do work.
type knownCall struct {
	kind  string
	names []string // function or method names; empty: any
}

var known = map[string]knownCall{
	"regexp":                                {"regexp", []string{"Compile", "MustCompile", "CompilePOSIX", "MustCompilePOSIX"}},
	"text/template":                         {"template", []string{"Parse", "ParseFiles", "ParseGlob", "ParseFS"}},
	"html/template":                         {"template", []string{"Parse", "ParseFiles", "ParseGlob", "ParseFS"}},
	"encoding/json":                         {"json", []string{"Unmarshal", "Decode"}},
	"os":                                    {"file-io", []string{"ReadFile", "Open", "OpenFile", "ReadDir", "Create"}},
	"io/ioutil":                             {"file-io", []string{"ReadFile", "ReadDir", "ReadAll"}},
	"net/http":                              {"network", []string{"Get", "Post", "Head", "PostForm", "Do"}},
	"net":                                   {"network", []string{"Dial", "DialTimeout", "LookupHost", "LookupIP", "Listen"}},
	"crypto/x509":                           {"certificates", []string{"SystemCertPool"}},
	"time":                                  {"timezone", []string{"LoadLocation"}},
	"database/sql":                          {"database", []string{"Open"}},
	"github.com/aws/aws-sdk-go-v2/config":   {"sdk-client", []string{"LoadDefaultConfig"}},
	"github.com/aws/aws-sdk-go/aws/session": {"sdk-client", []string{"New", "NewSession", "NewSessionWithOptions", "Must"}},
}

var suggestions = map[string]string{
	"regexp":       "compile on first use: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(...) })",
	"template":     "parse on first use with sync.OnceValue, or only the templates the invocation needs",
	"json":         "decode on first use with sync.OnceValue, or generate Go code instead of decoding data at start",
	"file-io":      "read on first use with sync.OnceValues (Lambda's init runs before the first event is even known)",
	"network":      "no network at init: connect on first use with sync.OnceValues and reuse the connection",
	"certificates": "load the certificate pool on first use (sync.OnceValues); it reads and parses every system certificate",
	"timezone":     "load the location on first use, or embed only the zones needed (time/tzdata)",
	"database":     "open on first use with sync.OnceValues and reuse it across invocations",
	"sdk-client":   "create clients on first use with sync.OnceValues and reuse them; if every invocation needs one, keep it at init but make sure it does no network call there",
	"call":         "if not every invocation needs its result, compute it on first use with sync.OnceValue",
}

// FindSites loads the given packages of the module in modDir (import
// paths; "main" is the main package mainPkg) with syntax and types, and
// returns the init work of each, keyed like the request.
func FindSites(modDir string, pkgPaths []string, mainPkg string) (map[string][]Site, error) {
	if abs, err := filepath.Abs(modDir); err == nil {
		modDir = abs
	}
	patterns := make([]string, 0, len(pkgPaths))
	alias := map[string]string{} // loaded path -> requested name
	for _, p := range pkgPaths {
		q := p
		if p == "main" {
			q = mainPkg
		}
		patterns = append(patterns, q)
		alias[q] = p
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:  modDir,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", strings.Join(patterns, " "), err)
	}
	// Functions of the loaded packages, so calls into the user's own code
	// can be followed to the work they do.
	decls := map[*types.Func]*ast.FuncDecl{}
	infos := map[*ast.FuncDecl]*types.Info{}
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok {
					if obj, ok := p.TypesInfo.Defs[fd.Name].(*types.Func); ok {
						decls[obj] = fd
						infos[fd] = p.TypesInfo
					}
				}
			}
		}
	}
	out := map[string][]Site{}
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			return nil, fmt.Errorf("loading %s: %v", p.PkgPath, p.Errors[0])
		}
		name := alias[p.PkgPath]
		if name == "" {
			name = alias[p.ID]
		}
		if name == "" && p.Name == "main" {
			name = "main"
		}
		s := &scanner{fset: p.Fset, modDir: modDir, decls: decls, infos: infos}
		for _, f := range p.Syntax {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Name.Name == "init" && d.Recv == nil && d.Body != nil {
						s.scan(d.Body, p.TypesInfo, "func init", nil, 0)
					}
				case *ast.GenDecl:
					if d.Tok != token.VAR {
						continue
					}
					for _, spec := range d.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, v := range vs.Values {
							n := vs.Names[min(i, len(vs.Names)-1)].Name
							s.scan(v, p.TypesInfo, "var "+n, nil, 0)
						}
					}
				}
			}
		}
		sort.SliceStable(s.sites, func(i, j int) bool {
			if s.sites[i].File != s.sites[j].File {
				return s.sites[i].File < s.sites[j].File
			}
			return s.sites[i].Line < s.sites[j].Line
		})
		out[name] = s.sites
	}
	return out, nil
}

type scanner struct {
	fset   *token.FileSet
	modDir string
	decls  map[*types.Func]*ast.FuncDecl
	infos  map[*ast.FuncDecl]*types.Info
	sites  []Site
	// top is the position of the initialiser or init-function call being
	// scanned: sites are reported there, where the user would change it.
	top token.Pos
}

const maxDepth = 3

// scan walks n (an initialiser or an init body) for calls that do work.
// Calls into the user's own functions are followed up to maxDepth.
func (s *scanner) scan(n ast.Node, info *types.Info, where string, via []string, depth int) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // runs later, unless called (handled below)
		case *ast.CallExpr:
			if lit, ok := n.Fun.(*ast.FuncLit); ok {
				s.scan(lit.Body, info, where, via, depth)
				for _, a := range n.Args {
					s.scan(a, info, where, via, depth)
				}
				return false
			}
			if depth == 0 {
				s.top = n.Pos()
			}
			fn := typeutil.StaticCallee(info, n)
			if fn == nil || fn.Pkg() == nil {
				return true
			}
			if kind, ok := classify(fn); ok {
				s.add(where, kind, describe(fn, via, s.pos(n.Pos())))
				return true
			}
			if fd, ok := s.decls[fn]; ok && fd.Body != nil {
				before := len(s.sites)
				if depth < maxDepth {
					s.scan(fd.Body, s.infos[fd], where, append(via, fn.Name()), depth+1)
				}
				if depth == 0 && len(s.sites) == before {
					// The user's own work, of no known kind: still report
					// it, the trace says what it costs.
					s.add(where, "call", fn.Name()+"()")
				}
				return true
			}
		}
		return true
	})
}

func (s *scanner) pos(p token.Pos) string {
	pos := s.fset.Position(p)
	return fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line)
}

func (s *scanner) add(where, kind, what string) {
	pos := s.fset.Position(s.top)
	rel, err := filepath.Rel(s.modDir, pos.Filename)
	if err != nil {
		rel = pos.Filename
	}
	site := Site{File: filepath.ToSlash(rel), Line: pos.Line, Where: where, Kind: kind, What: what, Suggestion: suggestions[kind]}
	for _, have := range s.sites {
		if have.File == site.File && have.Line == site.Line && have.What == site.What {
			return
		}
	}
	s.sites = append(s.sites, site)
}

func classify(fn *types.Func) (string, bool) {
	path := fn.Pkg().Path()
	if k, ok := known[path]; ok {
		for _, n := range k.names {
			if fn.Name() == n {
				return k.kind, true
			}
		}
		return "", false
	}
	// AWS SDK service clients: s3.NewFromConfig, dynamodb.New, ...
	if (strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/service/") || strings.HasPrefix(path, "github.com/aws/aws-sdk-go/service/")) &&
		(fn.Name() == "NewFromConfig" || fn.Name() == "New") {
		return "sdk-client", true
	}
	return "", false
}

func describe(fn *types.Func, via []string, at string) string {
	name := fn.Pkg().Name() + "." + fn.Name()
	if sig, ok := fn.Type().(*types.Signature); ok && sig.Recv() != nil {
		t := sig.Recv().Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if nt, ok := t.(*types.Named); ok {
			name = fn.Pkg().Name() + "." + nt.Obj().Name() + "." + fn.Name()
		}
	}
	chain := append(append([]string(nil), via...), name)
	return strings.Join(chain, " → ") + " (" + at + ")"
}
