package optimizecmd

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/fnopt/fnopt/optimize/project"
)

// The text report of `fnopt optimize`.

func printPlan(w io.Writer, doc *Document) {
	p := doc.Project
	lang := p.Language
	if p.LambdaGo {
		lang += ", aws-lambda-go"
	}
	fmt.Fprintf(w, "fnopt optimize %s (%s)\n", doc.Dir, lang)
	var build []string
	for _, b := range p.Build {
		s := b.File + " (" + b.Kind
		if b.Detail != "" {
			s += ": " + b.Detail
		}
		build = append(build, s+")")
	}
	if len(build) == 0 {
		build = []string{"no build file found"}
	}
	fmt.Fprintf(w, "built by:  %s\n", strings.Join(build, ", "))
	for _, t := range p.Functions {
		fmt.Fprintf(w, "function:  %s  runtime %s, %s, handler %s  (%s:%d)\n", t.Name, orNone(t.Runtime), t.Arch, orNone(t.Handler), t.File, t.Line)
	}
	fmt.Fprintln(w)
	if len(doc.Findings) == 0 {
		fmt.Fprintln(w, "No findings: the build already uses fnopt's tuned settings.")
	} else {
		fmt.Fprintln(w, "Findings, most valuable first:")
	}
	for i, f := range doc.Findings {
		fmt.Fprintf(w, "%2d. [%s] %s\n", i+1, f.ID, f.Title)
		for _, e := range f.Evidence {
			fmt.Fprintf(w, "    at      %s  %s\n", e, e.Text)
		}
		fmt.Fprintf(w, "    why     %s\n", f.Why)
		fmt.Fprintf(w, "    effect  %s\n", f.Effect)
		switch {
		case f.Blocked != "":
			fmt.Fprintf(w, "    blocked %s\n", f.Blocked)
		case f.Manual != "":
			fmt.Fprintf(w, "    by hand %s\n", f.Manual)
		default:
			fmt.Fprintf(w, "    change  %s\n", editSummary(f.Edits))
		}
	}
	if len(doc.NotUnderstood) > 0 {
		fmt.Fprintln(w, "\nNot understood, left alone:")
		for _, s := range doc.NotUnderstood {
			fmt.Fprintf(w, "    %s: %s\n", s.File, s.Reason)
		}
	}
	if doc.Init != nil {
		printInit(w, doc.Init)
	} else if doc.InitError != "" {
		fmt.Fprintf(w, "\nInit trace skipped: %s\n", doc.InitError)
	}
	if doc.Verify != nil {
		printVerify(w, doc.Verify)
	}
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// editSummary lists the edited lines, per file.
func editSummary(edits []project.Edit) string {
	var files []string
	lines := map[string][]int{}
	for _, e := range edits {
		if _, ok := lines[e.File]; !ok {
			files = append(files, e.File)
		}
		lines[e.File] = append(lines[e.File], e.Line)
	}
	var parts []string
	for _, f := range files {
		ls := lines[f]
		sort.Ints(ls)
		var strs []string
		for i, l := range ls {
			if i == 0 || l != ls[i-1] {
				strs = append(strs, strconv.Itoa(l))
			}
		}
		parts = append(parts, f+":"+strings.Join(strs, ","))
	}
	return strings.Join(parts, " ")
}

func printFooter(opts *Options, doc *Document, plan *project.Plan) {
	w := opts.IO.Out
	n := len(plan.Applicable())
	switch {
	case opts.Apply && len(doc.Applied) > 0:
		fmt.Fprintf(w, "\nApplied %d finding(s): changed %s.\n", n, strings.Join(doc.Applied, ", "))
	case opts.Apply:
		fmt.Fprintln(w, "\nNothing to apply.")
	case n > 0 && plan.Refusal() != nil:
		// --apply would change some build files and not the link: refused.
		fmt.Fprintf(w, "\n%d finding(s) could be fixed automatically, but --apply changes nothing while %s\n", n, linkNote(plan.Refusal()))
	case n > 0:
		fmt.Fprintf(w, "\n%d finding(s) can be fixed automatically: --diff shows the changes, --apply makes them.\n", n)
	}
}

// linkNote says which build file stops --apply, for the plan's footer.
func linkNote(err error) string {
	var link *project.LinkError
	var ft *project.FileTypeError
	switch {
	case errors.As(err, &link):
		return link.File + " is a symbolic link: replace it with a copy of the file it points to."
	case errors.As(err, &ft):
		return ft.File + " is " + ft.Kind + ", not a file: replace it with the file."
	}
	return err.Error()
}
