package slim

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/fnopt/fnopt/internal/oci/elfdeps"
	"github.com/fnopt/fnopt/internal/oci/rootfs"
	"github.com/fnopt/fnopt/verify/sandbox"
)

// Kept is one path of the minimised image and why it is there.
type Kept struct {
	Path    string   `json:"path"`
	Reasons []string `json:"reasons"`
}

// defaultPath is the PATH a container runtime uses when the image sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// caBundles are where TLS libraries look for CA certificates: Debian and
// Alpine, Amazon Linux and Fedora, OpenSSL's default, SUSE.
// OpenSSL's default CA files (Debian's /usr/lib/ssl/cert.pem, Amazon
// Linux's /etc/pki/tls/cert.pem) are usually symlinks to one of the others.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem",
	"/etc/ssl/ca-bundle.pem",
	"/usr/lib/ssl/cert.pem",
	"/etc/pki/tls/cert.pem",
}

// nameResolution are the small files libc's resolver reads when a
// function first calls another service, which the sandbox (no network)
// may not show: a function calling AWS APIs needs them on Lambda.
var nameResolution = []string{
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
	"/etc/services", "/etc/protocols",
}

// maxScript bounds how much of a script is read for the paths it names.
const maxScript = 256 << 10

// keeper collects the paths the function needs, with their reasons.
type keeper struct {
	root    *elfdeps.Root
	inv     *inventory
	env     map[string]string
	workdir string
	keep    map[string][]string
	scanned map[string]bool // programs already looked at
}

func newKeeper(root *elfdeps.Root, inv *inventory, cf *v1.ConfigFile) *keeper {
	env := map[string]string{}
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	wd := cf.Config.WorkingDir
	if wd == "" {
		wd = "/"
	}
	return &keeper{root: root, inv: inv, env: env, workdir: wd, keep: map[string][]string{}, scanned: map[string]bool{}}
}

// mark records p (an image path with no symlink before its last
// component) as kept for reason.
func (k *keeper) mark(p, reason string) {
	p = path.Clean(p)
	for _, r := range k.keep[p] {
		if r == reason {
			return
		}
	}
	k.keep[p] = append(k.keep[p], reason)
}

// resolve keeps p, the symlinks leading to it and what they lead to.
func (k *keeper) resolve(p, reason string) (elfdeps.Resolved, error) {
	res, err := k.root.Resolve(p)
	if err != nil {
		return res, err
	}
	for _, l := range res.Links {
		k.mark(l, "symlink on the way to "+res.Path)
	}
	k.mark(res.Path, reason)
	return res, nil
}

// tree keeps p and, when it is a folder, everything below it.
func (k *keeper) tree(p, reason string) error {
	res, err := k.resolve(p, reason)
	if err != nil {
		return err
	}
	if _, ok := k.inv.tree.Lookup(res.Path); !ok {
		return fmt.Errorf("%s: %w", p, errNotInImage)
	}
	k.inv.tree.Walk(res.Path, func(f rootfs.File) { k.mark(f.Path, reason) })
	return nil
}

var errNotInImage = errors.New("not in the image")

// lookPath finds a command as a container runtime does.
func (k *keeper) lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if !strings.HasPrefix(name, "/") {
			name = path.Join(k.workdir, name)
		}
		if _, err := k.root.Resolve(name); err != nil {
			return "", err
		}
		return name, nil
	}
	pathEnv, ok := k.env["PATH"]
	if !ok {
		pathEnv = defaultPath
	}
	for _, dir := range strings.Split(pathEnv, ":") {
		if !strings.HasPrefix(dir, "/") {
			dir = path.Join(k.workdir, dir)
		}
		p := path.Join(dir, name)
		res, err := k.root.Resolve(p)
		if err == nil && res.Info.Mode().IsRegular() && res.Info.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in PATH %s: %w", name, pathEnv, errNotInImage)
}

// entrypoint keeps what ENTRYPOINT and CMD run, as Lambda runs them.
func (k *keeper) entrypoint(cf *v1.ConfigFile) error {
	argv := append(append([]string(nil), cf.Config.Entrypoint...), cf.Config.Cmd...)
	if len(argv) == 0 {
		return errors.New("the image has no entrypoint or cmd: Lambda needs one to start the function")
	}
	prog, err := k.lookPath(argv[0])
	if err != nil {
		return fmt.Errorf("entrypoint %s: %w", argv[0], err)
	}
	if err := k.program(prog, "entrypoint", 0); err != nil {
		return err
	}
	// Files of the image the arguments name (a handler script, a jar, a
	// program in `sh -c "exec /app/server"`) are kept too.
	for _, a := range argv[1:] {
		for _, p := range scriptPaths([]byte(a)) {
			if res, err := k.root.Resolve(p); err == nil && !res.Info.IsDir() {
				if err := k.program(p, "named by the entrypoint's arguments", 0); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// maxScriptDepth bounds scripts running scripts.
const maxScriptDepth = 8

// program keeps an executable; for a #! script also its interpreter and
// the files the script names by absolute path (the AWS base images'
// /lambda-entrypoint.sh names /var/runtime/bootstrap so). ELF files get
// their dependency closure later, all at once.
func (k *keeper) program(p, reason string, depth int) error {
	res, err := k.resolve(p, reason)
	if err != nil {
		return fmt.Errorf("%s (%s): %w", p, reason, err)
	}
	if k.scanned[res.Path] || !res.Info.Mode().IsRegular() || depth > maxScriptDepth {
		return nil
	}
	k.scanned[res.Path] = true
	head, err := k.root.ReadFile(res.Path, maxScript)
	if err != nil {
		return nil // too big for a script: an ELF file or data
	}
	if !bytes.HasPrefix(head, []byte("#!")) {
		return nil
	}
	interp, arg := shebang(head)
	if interp == "" {
		return nil
	}
	if err := k.program(interp, "interpreter of "+p, depth+1); err != nil {
		return err
	}
	if path.Base(interp) == "env" && arg != "" {
		if prog, err := k.lookPath(arg); err == nil {
			if err := k.program(prog, "run by "+p+" through env", depth+1); err != nil {
				return err
			}
		}
	}
	for _, name := range scriptPaths(head) {
		if notOnLambda[name] {
			continue
		}
		nres, err := k.root.Resolve(name)
		if err != nil || nres.Info.IsDir() {
			continue
		}
		if nres.Info.Mode().Perm()&0o111 != 0 {
			err = k.program(name, "named in script "+p, depth+1)
		} else {
			_, err = k.resolve(name, "named in script "+p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// notOnLambda are paths start scripts name that never run on Lambda: the
// AWS base images' /lambda-entrypoint.sh runs the runtime interface
// emulator only when AWS_LAMBDA_RUNTIME_API is unset, which Lambda always
// sets. (The traced run would still keep it if it ran.)
var notOnLambda = map[string]bool{"/usr/local/bin/aws-lambda-rie": true}

// shebang parses a #! line: the interpreter and its one optional argument.
func shebang(b []byte) (interp, arg string) {
	line, _, _ := bytes.Cut(b[2:], []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return "", ""
	}
	if len(fields) > 1 {
		arg = fields[1]
	}
	return fields[0], arg
}

var absPathRE = regexp.MustCompile(`(?:^|[\s=:"'(])(/[A-Za-z0-9._+/@-]+)`)

// scriptPaths lists the absolute paths a script names.
func scriptPaths(b []byte) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range absPathRE.FindAllSubmatch(b, -1) {
		p := path.Clean(string(m[1]))
		if p != "/" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// volatile are the folders the sandbox (and Lambda) mount over the image.
var volatile = []string{"/proc", "/dev", "/sys", "/tmp"}

func isVolatile(p string) bool {
	for _, v := range volatile {
		if p == v || strings.HasPrefix(p, v+"/") {
			return true
		}
	}
	return false
}

// traced keeps what the traced run touched successfully.
func (k *keeper) traced(acc []sandbox.FileAccess) error {
	for _, a := range acc {
		if !a.OK() {
			continue
		}
		p := a.Resolved
		if p == "" && strings.HasPrefix(a.Path, "/") {
			p = path.Clean(a.Path)
		}
		if p == "" || p == "/" || isVolatile(p) {
			continue
		}
		res, err := k.root.Resolve(p)
		if err != nil {
			continue // made at run time, or outside the image
		}
		if isVolatile(res.Path) {
			continue
		}
		reason := "used by the traced run (" + a.Syscall + ")"
		if a.Syscall == "execve" || a.Syscall == "execveat" {
			if err := k.program(p, "run by the traced run (execve)", 0); err != nil {
				return err
			}
			continue
		}
		if _, err := k.resolve(p, reason); err != nil {
			return err
		}
	}
	return nil
}

// extras keeps what every function may need without showing it in one
// cold start: CA certificates, user and group names, name resolution
// files, the working folder.
func (k *keeper) extras() {
	for _, p := range caBundles {
		if res, err := k.root.Resolve(p); err == nil && res.Info.Mode().IsRegular() {
			_, _ = k.resolve(p, "CA certificates")
		}
	}
	for _, p := range []string{"/etc/passwd", "/etc/group"} {
		if _, err := k.root.Resolve(p); err == nil {
			_, _ = k.resolve(p, "user and group names")
		}
	}
	for _, p := range nameResolution {
		if res, err := k.root.Resolve(p); err == nil && res.Info.Mode().IsRegular() {
			_, _ = k.resolve(p, "name resolution (calls to other services)")
		}
	}
	if _, err := k.root.Resolve(k.workdir); err == nil {
		_, _ = k.resolve(k.workdir, "working folder")
	}
	if f, ok := k.inv.tree.Lookup("/tmp"); ok && f.Type == tar.TypeDir {
		k.mark("/tmp", "Lambda's writable folder")
	}
}

// closure adds the ELF dependencies of every kept file until nothing new
// comes in; the libraries it could not find are returned as notes.
func (k *keeper) closure() ([]string, error) {
	var libPath []string
	if v := k.env["LD_LIBRARY_PATH"]; v != "" {
		for _, d := range strings.Split(v, ":") {
			if strings.HasPrefix(d, "/") {
				libPath = append(libPath, d)
			}
		}
	}
	r := elfdeps.NewResolver(k.root, elfdeps.Options{LibraryPath: libPath})
	var missing []string
	done := map[string]bool{}
	for {
		var todo []string
		for p := range k.keep {
			if done[p] {
				continue
			}
			done[p] = true
			if f, ok := k.inv.tree.Lookup(p); ok && (f.Type == tar.TypeReg || f.Type == tar.TypeLink) {
				todo = append(todo, p)
			}
		}
		if len(todo) == 0 {
			break
		}
		// Programs first, so that each library is reported as needed by
		// the program that loads it.
		sort.Slice(todo, func(i, j int) bool {
			pi, pj := k.scanned[todo[i]], k.scanned[todo[j]]
			if pi != pj {
				return pi
			}
			return todo[i] < todo[j]
		})
		c, err := r.Closure(todo...)
		if err != nil {
			return nil, err
		}
		for _, d := range c.Deps {
			why := fmt.Sprintf("%s needed by %s", d.Name, d.By)
			if d.Name == "interpreter" {
				why = "ELF interpreter of " + d.By
			}
			for _, l := range d.Resolved.Links {
				k.mark(l, "symlink on the way to "+d.Resolved.Path)
			}
			k.mark(d.Resolved.Path, why)
			for _, conf := range d.ConfFiles {
				_, _ = k.resolve(conf, fmt.Sprintf("ld.so.conf naming the folder of %s (for ldconfig)", d.Resolved.Path))
			}
		}
		for _, m := range c.Missing {
			missing = append(missing, fmt.Sprintf("%s, needed by %s, is not in the image", m.Name, m.By))
		}
	}
	return missing, nil
}

// exclude drops p and everything under it, whatever needed it.
func (k *keeper) exclude(p string) int {
	p = path.Clean("/" + p)
	n := 0
	for q := range k.keep {
		if q == p || strings.HasPrefix(q, p+"/") {
			delete(k.keep, q)
			n++
		}
	}
	return n
}

// list returns the kept paths, sorted, with every parent folder (kept
// "as the folder of" its content).
func (k *keeper) list() []Kept {
	for p := range k.keep {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := k.keep[d]; ok {
				break
			}
			k.keep[d] = []string{"folder of " + p}
		}
	}
	out := make([]Kept, 0, len(k.keep))
	for p, r := range k.keep {
		if p == "/" {
			continue
		}
		out = append(out, Kept{Path: p, Reasons: r})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
