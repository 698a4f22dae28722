package settings

import "runtime"

// GoHost returns the tuned Go build for a binary that runs on the machine
// fnopt runs on rather than on Lambda (the init trace, verify's build of
// a project): Go(HostArch()) on Linux; on another system the same flags
// for that system (GoNative), whose figures compare builds with each
// other only.
func GoHost() GoBuild {
	if runtime.GOOS == "linux" {
		return Go(HostArch())
	}
	return GoNative(runtime.GOOS, runtime.GOARCH)
}

// GoNative is the tuned Go build for an executable of another system
// (goos, goarch as Go names them): the flags of Go, only the target
// differs.
func GoNative(goos, goarch string) GoBuild {
	g := Go(HostArch())
	g.Env = []string{"CGO_ENABLED=0", "GOOS=" + goos, "GOARCH=" + goarch}
	return g
}
