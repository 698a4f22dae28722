package settings

import "runtime"

// GoHost returns the tuned Go build for a binary that runs on the machine
// fnopt runs on rather than on Lambda (the init trace, verify's host
// build): Go(HostArch()) on Linux; on another system the same flags for
// that system, whose figures compare builds with each other only.
func GoHost() GoBuild {
	g := Go(HostArch())
	if runtime.GOOS != "linux" {
		g.Env = []string{"CGO_ENABLED=0", "GOOS=" + runtime.GOOS, "GOARCH=" + runtime.GOARCH}
	}
	return g
}
