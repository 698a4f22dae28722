package layers

import (
	"bufio"
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/fnopt/fnopt"

// layers lists fnopt's folders from the bottom up. A package belongs to
// the longest prefix that names it. Product code may import a package of a
// lower layer, or of its own folder (the go command already forbids
// cycles there); never one of a higher layer or of another folder on the
// same floor. Test files are exempt: they may build real projects from
// templates or run them against the emulator.
var layers = []struct {
	floor   int
	folders []string
}{
	{0, []string{"internal/bytesize", "internal/countio", "internal/atomicfile", "internal/awsref", "internal/chart", "internal/layers", "internal/procgroup", "internal/version"}},
	{1, []string{"internal/testenv", "internal/registrytest", "internal/samschema", "internal/schematest"}}, // imported by tests only
	{2, []string{"internal/function"}},
	{3, []string{"internal/oci"}},
	{4, []string{"internal/dist"}},
	{5, []string{"verify"}},
	{6, []string{"optimize", "templates"}},
	{7, []string{"cmd"}},
	{8, []string{"examples"}},
}

// place returns the floor and the folder of a package path relative to
// the module.
func place(pkg string) (floor int, folder string, ok bool) {
	best := ""
	for _, l := range layers {
		for _, f := range l.folders {
			if (pkg == f || strings.HasPrefix(pkg, f+"/")) && len(f) > len(best) {
				best, floor = f, l.floor
			}
		}
	}
	return floor, best, best != ""
}

func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		bad = append(bad, check(fields[0], fields[1:])...)
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// check returns what is wrong with pkg importing imports (full paths).
func check(pkg string, imports []string) []string {
	pkg = strings.TrimPrefix(pkg, module+"/")
	from, fromFolder, ok := place(pkg)
	if !ok {
		return []string{pkg + ": in no layer; add its folder to the table in layers_test.go"}
	}
	var bad []string
	for _, imp := range imports {
		if !strings.HasPrefix(imp, module+"/") {
			continue
		}
		imp = strings.TrimPrefix(imp, module+"/")
		to, toFolder, ok := place(imp)
		switch {
		case !ok:
			bad = append(bad, imp+": in no layer; add its folder to the table in layers_test.go")
		case to > from:
			bad = append(bad, pkg+" imports "+imp+", a higher layer")
		case to == from && toFolder != fromFolder:
			bad = append(bad, pkg+" imports "+imp+", a neighbour on the same floor")
		}
	}
	return bad
}

func TestCheck(t *testing.T) {
	m := func(p string) string { return module + "/" + p }
	tests := []struct {
		pkg     string
		imports []string
		want    int
	}{
		{m("verify"), []string{"fmt", m("internal/oci/image"), m("verify/stats")}, 0},
		{m("verify"), []string{m("optimize/slim")}, 1},       // up
		{m("templates"), []string{m("optimize/project")}, 1}, // sideways
		{m("internal/oci/image"), []string{m("internal/dist")}, 1},
		{m("nowhere/pkg"), nil, 1},
	}
	for _, tt := range tests {
		if got := check(tt.pkg, tt.imports); len(got) != tt.want {
			t.Errorf("check(%s, %v) = %q, want %d findings", tt.pkg, tt.imports, got, tt.want)
		}
	}
}

func TestPlace(t *testing.T) {
	tests := []struct {
		pkg    string
		floor  int
		folder string
	}{
		{"internal/function/settings", 2, "internal/function"},
		{"internal/oci/rootfs", 3, "internal/oci"},
		{"verify/gate", 5, "verify"},
		{"optimize/slim", 6, "optimize"},
		{"cmd/fnopt", 7, "cmd"},
		{"internal/functional", -1, ""}, // a prefix must end at a slash
	}
	for _, tt := range tests {
		floor, folder, ok := place(tt.pkg)
		if tt.folder == "" {
			if ok {
				t.Errorf("place(%q) = %d %q, want no layer", tt.pkg, floor, folder)
			}
			continue
		}
		if !ok || floor != tt.floor || folder != tt.folder {
			t.Errorf("place(%q) = %d %q %v, want %d %q", tt.pkg, floor, folder, ok, tt.floor, tt.folder)
		}
	}
}
