// Package rules holds the moderation rules: one regular expression per
// banned term, all compiled when the package is loaded.
package rules

import (
	"fmt"
	"regexp"
)

// Count is the number of rules.
const Count = 2000

// Rules are compiled at package initialisation: every cold start pays for
// all of them, whether or not an invocation ever needs them.
var Rules = compileRules(Count)

func compileRules(n int) []*regexp.Regexp {
	out := make([]*regexp.Regexp, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, regexp.MustCompile(pattern(i)))
	}
	return out
}

func pattern(i int) string {
	return fmt.Sprintf(`(?i)\b(banned|blocked)-term-%04d(s|es)?\b`, i)
}

// CompileRules compiles n rules again; the calibration of the init-trace
// test uses it to time the same work as the package initialiser.
func CompileRules(n int) []*regexp.Regexp { return compileRules(n) }

// Match returns the index of the first rule text matches, or -1.
func Match(text string) int {
	for i, r := range Rules {
		if r.MatchString(text) {
			return i
		}
	}
	return -1
}
