// Package templates holds the embedded project templates of `fnopt new`
// and renders them into a folder.
//
// The tree under files/ is layered: for a project in language L with client
// flavour C, the files of files/common, files/L/common and files/L/C are
// rendered in that order (a later layer's file replaces an earlier one at
// the same path). Inside a layer, files under events/<event>/ are used only
// for that event source, with the events/<event>/ prefix removed. Every
// file ends in .tmpl (so Go and Cargo never see the templates as code);
// the suffix is dropped and the content rendered with text/template and
// Data. A file that renders to nothing but white space is not written,
// which lets one template be conditional.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"
)

//go:embed all:files
var filesFS embed.FS

// File is one rendered file of a project.
type File struct {
	Path string // slash-separated, relative to the project root
	Mode fs.FileMode
	Data []byte
}

// Render renders the project described by opts. It does not touch the disk.
func Render(opts Options) ([]File, error) {
	if err := opts.Normalize(); err != nil {
		return nil, err
	}
	data := newData(opts)
	lang, client := string(opts.Lang), string(opts.Client)
	layers := []string{"files/common", "files/" + lang + "/common", "files/" + lang + "/" + client}
	byPath := map[string]File{}
	for _, layer := range layers {
		if _, err := fs.Stat(filesFS, layer); err != nil {
			continue // a language may have no common layer
		}
		err := fs.WalkDir(filesFS, layer, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel := strings.TrimPrefix(p, layer+"/")
			if rest, ok := strings.CutPrefix(rel, "events/"); ok {
				ev, name, _ := strings.Cut(rest, "/")
				if ev != opts.Event {
					return nil
				}
				rel = name
			}
			out, err := renderOne(p, data)
			if err != nil {
				return err
			}
			rel = strings.TrimSuffix(rel, ".tmpl")
			if len(bytes.TrimSpace(out)) == 0 {
				delete(byPath, rel)
				return nil
			}
			byPath[rel] = File{Path: rel, Mode: modeFor(rel), Data: out}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	files := make([]File, 0, len(byPath))
	for _, f := range byPath {
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func renderOne(p string, data Data) ([]byte, error) {
	src, err := filesFS.ReadFile(p)
	if err != nil {
		return nil, err
	}
	t, err := template.New(path.Base(p)).Funcs(funcs).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", p, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("template %s: %w", p, err)
	}
	return b.Bytes(), nil
}

// modeFor makes shell scripts executable; everything else is 0644.
func modeFor(rel string) fs.FileMode {
	if strings.HasSuffix(rel, ".sh") {
		return 0o755
	}
	return 0o644
}

var funcs = template.FuncMap{
	"join":  strings.Join,
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
}
