// Package registrytest starts OCI registries for tests, on loopback only.
//
// Start runs a real registry server, Debian's docker-registry (the CNCF
// distribution registry 2.8, `make setup` installs it), for tests that
// must talk to what users run. InProcess serves go-containerregistry's
// in-memory registry (pkg/registry) from the test process: much faster,
// for tests that only need the protocol. Start runs on Linux only (the
// server is a Debian package); elsewhere it skips the test.
package registrytest

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// InProcess serves go-containerregistry's in-memory registry on
// 127.0.0.1:<free port> for the length of the test and returns its
// host:port.
func InProcess(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
