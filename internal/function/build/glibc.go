package build

import (
	"debug/elf"
	"fmt"
	"strconv"
	"strings"
)

// LambdaGlibc is the glibc version of Lambda's provided.al2023 runtime
// (Amazon Linux 2023). A dynamically linked bootstrap that needs a newer
// symbol version fails at start on Lambda ("GLIBC_2.35 not found") even
// though it runs on the build machine, so the build refuses it.
const LambdaGlibc = "2.34"

// glibcNeeded returns the highest GLIBC_x.y symbol version f needs, or ""
// when it needs none (a static binary).
func glibcNeeded(f *elf.File) (string, error) {
	needs, err := f.DynamicVersionNeeds()
	if err != nil {
		// No version section: nothing versioned is needed.
		return "", nil
	}
	best := ""
	for _, n := range needs {
		for _, d := range n.Needs {
			v, ok := strings.CutPrefix(d.Dep, "GLIBC_")
			if !ok || !isVersion(v) {
				continue // GLIBC_PRIVATE and other libraries' versions
			}
			if best == "" || compareVersions(v, best) > 0 {
				best = v
			}
		}
	}
	return best, nil
}

// checkGlibc fails when f needs a newer glibc than Lambda has.
func checkGlibc(f *elf.File) error {
	v, err := glibcNeeded(f)
	if err != nil || v == "" {
		return err
	}
	if compareVersions(v, LambdaGlibc) > 0 {
		return fmt.Errorf("the built binary needs glibc %s but Lambda's %s has %s: build against an older glibc or link the C runtime statically", v, "provided.al2023", LambdaGlibc)
	}
	return nil
}

func isVersion(s string) bool {
	for _, p := range strings.Split(s, ".") {
		if _, err := strconv.Atoi(p); err != nil {
			return false
		}
	}
	return s != ""
}

// compareVersions compares dotted numeric versions: -1, 0 or 1.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}
