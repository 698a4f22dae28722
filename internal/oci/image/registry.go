package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// remoteOptions returns the options every registry operation uses:
// credentials from the Docker config keychain (as docker, crane and ko
// read them), the caller's context, and a transport that allows plain
// HTTP only when insecure is set and the registry is on loopback.
//
// ggcr on its own falls back to HTTP for localhost and for private
// (RFC 1918) addresses; fnopt is stricter so that credentials never cross
// a network in clear text without the user asking for it.
func remoteOptions(ctx context.Context, ref name.Reference, insecure bool) (name.Reference, []remote.Option, error) {
	host := ref.Context().RegistryStr()
	if insecure {
		if !isLoopback(host) {
			return nil, nil, fmt.Errorf("--insecure allows plain HTTP only to a loopback registry (localhost, 127.0.0.1, [::1]); %s is not one: use HTTPS", host)
		}
		var err error
		ref, err = name.ParseReference(ref.String(), name.Insecure)
		if err != nil {
			return nil, nil, fmt.Errorf("image reference %q: %w", ref, err)
		}
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(httpPolicy{base: remote.DefaultTransport, allowHTTP: insecure}),
	}
	return ref, opts, nil
}

// isLoopback reports whether a registry host[:port] is this machine.
func isLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// errPlainHTTP is returned by httpPolicy for a refused http:// request.
var errPlainHTTP = errors.New("plain HTTP refused")

// httpPolicy refuses http:// requests unless allowHTTP.
type httpPolicy struct {
	base      http.RoundTripper
	allowHTTP bool
}

func (p httpPolicy) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !p.allowHTTP {
		return nil, errPlainHTTP
	}
	return p.base.RoundTrip(req)
}

// registryError turns what ggcr returns into one line that says what
// failed and what to do.
func registryError(op string, ref name.Reference, err error) error {
	host := ref.Context().RegistryStr()
	msg := oneLine(err.Error())
	var terr *transport.Error
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s %s: %w", op, ref, err)
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"), errors.Is(err, errPlainHTTP):
		return fmt.Errorf("%s %s: registry %s speaks plain HTTP; pass --insecure (allowed for loopback registries only)", op, ref, host)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s %s: cannot reach registry %s (connection refused); check the address and that the registry is running", op, ref, host)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%s %s: cannot reach registry %s (unknown host %s); check the address", op, ref, host, dnsErr.Name)
	case errors.As(err, &terr):
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s %s: registry %s refused access (HTTP %d); log in with `docker login %s` or check the repository name", op, ref, host, terr.StatusCode, host)
		case http.StatusNotFound:
			return fmt.Errorf("%s %s: not found in registry %s; check the repository and tag", op, ref, host)
		}
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return fmt.Errorf("%s %s: cannot reach registry %s: %s", op, ref, host, msg)
	}
	return fmt.Errorf("%s %s: %s", op, ref, msg)
}

// oneLine joins a multi-line message so that errors stay one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
