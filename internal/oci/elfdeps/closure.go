package elfdeps

import (
	"debug/elf"
	"fmt"
	"path"
	"strings"
)

// Dep is one file a program needs to start.
type Dep struct {
	// Path is the path the loader opens (before symlinks).
	Path string
	// Resolved is where Path leads inside the root.
	Resolved Resolved
	// Name is the DT_NEEDED name, or "interpreter" for PT_INTERP.
	Name string
	// By is the path of the program or library that needs it.
	By string
	// ConfFiles, when the library was found in a folder that
	// ld.so.conf names, are the configuration files naming it (the
	// include chain from /etc/ld.so.conf down).
	ConfFiles []string
}

// Missing is a DT_NEEDED library (or interpreter) found nowhere.
type Missing struct {
	Name, By string
}

// Closure is everything a set of programs needs, transitively.
type Closure struct {
	Deps    []Dep
	Missing []Missing
}

// Options say how the loader is set up in the image.
type Options struct {
	// LibraryPath is LD_LIBRARY_PATH from the image's environment, split.
	LibraryPath []string
}

// Resolver computes closures inside one root; it caches what it read.
type Resolver struct {
	root     *Root
	opts     Options
	infos    map[string]*Info // by resolved path; nil for non-ELF files
	confDirs []string
	// confFiles maps a folder ld.so.conf names to the file chain naming it.
	confFiles map[string][]string
	confRead  bool
}

// NewResolver returns a resolver for programs of root.
func NewResolver(root *Root, opts Options) *Resolver {
	return &Resolver{root: root, opts: opts, infos: map[string]*Info{}, confFiles: map[string][]string{}}
}

// Info inspects the file p resolves to; nil (and no error) when it is not
// an ELF file or one too malformed to load.
func (r *Resolver) Info(p string) (*Info, Resolved, error) {
	res, err := r.root.Resolve(p)
	if err != nil {
		return nil, res, err
	}
	if info, ok := r.infos[res.Path]; ok {
		return info, res, nil
	}
	if !res.Info.Mode().IsRegular() {
		r.infos[res.Path] = nil
		return nil, res, nil
	}
	f, _, err := r.root.Open(res.Path)
	if err != nil {
		return nil, res, err
	}
	defer f.Close()
	info, err := Inspect(f)
	if err != nil {
		// Not ELF, or an ELF file the loader could not load either
		// (truncated, malformed): nothing to follow.
		r.infos[res.Path] = nil
		return nil, res, nil
	}
	r.infos[res.Path] = &info
	return &info, res, nil
}

// object is a loaded ELF file waiting to have its needs resolved.
type object struct {
	path     string // as the loader named it
	resolved string
	info     *Info
}

// Closure returns the interpreter and libraries programs need,
// transitively, each once (the first program or library needing it is
// named). Programs that are not ELF files are skipped.
func (r *Resolver) Closure(programs ...string) (*Closure, error) {
	c := &Closure{}
	queued := map[string]bool{}   // objects whose needs are resolved
	reported := map[string]bool{} // objects listed in c.Deps
	for _, prog := range programs {
		info, res, err := r.Info(prog)
		if err != nil {
			return nil, err
		}
		if info == nil || queued[res.Path] {
			continue
		}
		queued[res.Path] = true
		exe := object{path: prog, resolved: res.Path, info: info}
		queue := []object{exe}
		if info.Interp != "" {
			if ires, err := r.root.Resolve(info.Interp); err == nil && ires.Info.Mode().IsRegular() {
				if !reported[ires.Path] {
					reported[ires.Path] = true
					c.Deps = append(c.Deps, Dep{Path: info.Interp, Resolved: ires, Name: "interpreter", By: prog})
				}
			} else {
				c.Missing = append(c.Missing, Missing{Name: info.Interp, By: prog})
			}
		}
		for len(queue) > 0 {
			obj := queue[0]
			queue = queue[1:]
			for _, name := range obj.info.Needed {
				lib, ok, err := r.find(name, obj, exe)
				if err != nil {
					return nil, err
				}
				if !ok {
					c.Missing = append(c.Missing, Missing{Name: name, By: obj.path})
					continue
				}
				if !reported[lib.resolved] {
					reported[lib.resolved] = true
					res, _ := r.root.Resolve(lib.path)
					c.Deps = append(c.Deps, Dep{Path: lib.path, Resolved: res, Name: name, By: obj.path, ConfFiles: r.confFiles[path.Dir(lib.path)]})
				}
				if !queued[lib.resolved] {
					queued[lib.resolved] = true
					queue = append(queue, lib)
				}
			}
		}
	}
	return c, nil
}

// find searches a DT_NEEDED name as glibc's loader does: DT_RPATH of the
// object and of the program (when the object has no DT_RUNPATH),
// LD_LIBRARY_PATH, DT_RUNPATH, the ld.so.conf folders, the default
// folders. Files of another class or machine are passed over, as the
// loader does.
func (r *Resolver) find(name string, obj, exe object) (object, bool, error) {
	if strings.Contains(name, "/") {
		return r.candidate(name, exe.info)
	}
	var dirs []string
	if len(obj.info.RunPath) == 0 {
		dirs = append(dirs, r.expand(obj.info.RPath, obj)...)
		if obj.resolved != exe.resolved {
			dirs = append(dirs, r.expand(exe.info.RPath, exe)...)
		}
	}
	dirs = append(dirs, r.opts.LibraryPath...)
	dirs = append(dirs, r.expand(obj.info.RunPath, obj)...)
	conf, err := r.ldSoConf()
	if err != nil {
		return object{}, false, err
	}
	dirs = append(dirs, conf...)
	dirs = append(dirs, defaultDirs(exe.info.Machine)...)
	tried := map[string]bool{}
	for _, d := range dirs {
		p := path.Join("/", d, name)
		if tried[p] {
			continue
		}
		tried[p] = true
		o, ok, err := r.candidate(p, exe.info)
		if err != nil || ok {
			return o, ok, err
		}
	}
	return object{}, false, nil
}

// candidate checks that p exists and is an ELF file the program can load.
func (r *Resolver) candidate(p string, exe *Info) (object, bool, error) {
	info, res, err := r.Info(p)
	if err != nil || info == nil {
		return object{}, false, nil // missing or not ELF: the loader goes on
	}
	if info.Class != exe.Class || info.Machine != exe.Machine {
		return object{}, false, nil
	}
	return object{path: p, resolved: res.Path, info: info}, true, nil
}

// expand replaces $ORIGIN, $LIB and $PLATFORM in search folders. $ORIGIN
// is tried as the object's folder both as named and as resolved (glibc
// uses the latter for the program, the former for libraries).
func (r *Resolver) expand(dirs []string, obj object) []string {
	var out []string
	origins := []string{path.Dir(obj.path)}
	if d := path.Dir(obj.resolved); d != origins[0] {
		origins = append(origins, d)
	}
	libs := []string{"lib64", "lib"}
	if obj.info.Class == elf.ELFCLASS32 {
		libs = []string{"lib"}
	}
	platform := platformName(obj.info.Machine)
	for _, d := range dirs {
		variants := []string{d}
		for _, tok := range []struct {
			names []string
			vals  []string
		}{
			{[]string{"$ORIGIN", "${ORIGIN}"}, origins},
			{[]string{"$LIB", "${LIB}"}, libs},
			{[]string{"$PLATFORM", "${PLATFORM}"}, []string{platform}},
		} {
			var next []string
			for _, v := range variants {
				replaced := false
				for _, n := range tok.names {
					if strings.Contains(v, n) {
						for _, val := range tok.vals {
							next = append(next, strings.ReplaceAll(v, n, val))
						}
						replaced = true
						break
					}
				}
				if !replaced {
					next = append(next, v)
				}
			}
			variants = next
		}
		for _, v := range variants {
			if strings.HasPrefix(v, "/") {
				out = append(out, path.Clean(v))
			}
		}
	}
	return out
}

func platformName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// defaultDirs are the loader's built-in folders: the multiarch ones of
// Debian and Ubuntu, the lib64 ones of Amazon Linux and Fedora, and the
// plain ones.
func defaultDirs(m elf.Machine) []string {
	var triplet string
	switch m {
	case elf.EM_X86_64:
		triplet = "x86_64-linux-gnu"
	case elf.EM_AARCH64:
		triplet = "aarch64-linux-gnu"
	}
	var dirs []string
	if triplet != "" {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	return append(dirs, "/lib64", "/usr/lib64", "/lib", "/usr/lib")
}

// maxConfDepth bounds nested ld.so.conf includes.
const maxConfDepth = 8

// ldSoConf reads /etc/ld.so.conf of the image and the files it includes.
func (r *Resolver) ldSoConf() ([]string, error) {
	if r.confRead {
		return r.confDirs, nil
	}
	r.confRead = true
	seen := map[string]bool{}
	var read func(file string, chain []string, depth int) error
	read = func(file string, chain []string, depth int) error {
		chain = append(chain[:len(chain):len(chain)], file)
		if depth > maxConfDepth || seen[file] {
			return nil
		}
		seen[file] = true
		b, err := r.root.ReadFile(file, 1<<20)
		if err != nil {
			return nil // a missing or odd include is ignored, as ldconfig does
		}
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			fields := strings.Fields(line)
			switch {
			case len(fields) == 0:
			case fields[0] == "include":
				for _, pat := range fields[1:] {
					if !strings.HasPrefix(pat, "/") {
						pat = path.Join(path.Dir(file), pat)
					}
					matches, err := r.root.Glob(pat)
					if err != nil {
						return err
					}
					for _, m := range matches {
						if err := read(m, chain, depth+1); err != nil {
							return err
						}
					}
				}
			case fields[0] == "hwcap":
			default:
				for _, d := range strings.FieldsFunc(line, func(c rune) bool { return c == ':' || c == ',' || c == ' ' || c == '\t' }) {
					d, _, _ = strings.Cut(d, "=")
					if strings.HasPrefix(d, "/") {
						d = path.Clean(d)
						r.confDirs = append(r.confDirs, d)
						if _, ok := r.confFiles[d]; !ok {
							r.confFiles[d] = chain
						}
					}
				}
			}
		}
		return nil
	}
	if err := read("/etc/ld.so.conf", nil, 0); err != nil {
		return nil, fmt.Errorf("reading /etc/ld.so.conf in the image: %w", err)
	}
	return r.confDirs, nil
}
