//go:build !linux

package registrytest

import "testing"

// Start skips the test: the real registry server is Debian's
// docker-registry, and the tests that need it run on Linux.
func Start(t testing.TB) string {
	t.Helper()
	t.Skip("docker-registry (Debian's package) runs on Linux: tests against a real registry server run there")
	return ""
}
