package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/fnopt/fnopt/internal/oci/ecrauth"
)

// DefaultRegistryTimeout is how long a registry may stay silent before an
// operation gives up: to accept a connection, to finish the TLS handshake,
// to answer a request, or in the middle of a transfer (no byte moving
// either way). A registry that stays silent that long is not retried: the
// operation fails after about this long, not forever.
const DefaultRegistryTimeout = 30 * time.Second

// registryOptions are what every registry operation is told.
type registryOptions struct {
	insecure bool          // plain HTTP allowed (loopback only)
	timeout  time.Duration // 0: DefaultRegistryTimeout
	keychain authn.Keychain
}

// InsecureHostError is returned when plain HTTP is asked for with a
// registry that is not on loopback: credentials would cross a network in
// clear text. Commands name the option that asked for it.
type InsecureHostError struct{ Host string }

func (e *InsecureHostError) Error() string {
	return fmt.Sprintf("plain HTTP is allowed only to a loopback registry (localhost, 127.0.0.1, [::1]); %s is not one: use HTTPS", e.Host)
}

// CheckInsecure fails with an *InsecureHostError when ref is a registry
// reference that plain HTTP (insecure) would be allowed for but is not on
// loopback, as every registry operation would; callers check before the
// work that precedes the operation (a build before its push).
func CheckInsecure(ref Ref, insecure bool) error {
	if !insecure || ref.Kind != Registry {
		return nil
	}
	if host := ref.Name.Context().RegistryStr(); !isLoopback(host) {
		return &InsecureHostError{Host: host}
	}
	return nil
}

// PlainHTTPError is returned when a registry answers HTTPS with plain
// HTTP and plain HTTP was not allowed. Loopback says whether it could be
// (commands then name the option that allows it).
type PlainHTTPError struct {
	Op, Ref, Host string
	Loopback      bool
}

func (e *PlainHTTPError) Error() string {
	if !e.Loopback {
		return fmt.Sprintf("%s %s: registry %s speaks plain HTTP, not HTTPS; plain HTTP is allowed only to a loopback registry: use HTTPS", e.Op, e.Ref, e.Host)
	}
	return fmt.Sprintf("%s %s: registry %s speaks plain HTTP, not HTTPS, and plain HTTP was not allowed", e.Op, e.Ref, e.Host)
}

// SilentRegistryError is returned when a registry stayed silent longer
// than the operation's timeout: it accepted the connection and then did
// not answer, or stopped in the middle of a transfer.
type SilentRegistryError struct {
	Op, Ref, Host string
	After         time.Duration
	Err           error // what the network said
}

func (e *SilentRegistryError) Error() string {
	return fmt.Sprintf("%s %s: registry %s accepted the connection, then sent nothing for %s; check that %s is a registry and that it is up", e.Op, e.Ref, e.Host, e.After, e.Host)
}

func (e *SilentRegistryError) Unwrap() error { return e.Err }

// remoteOptions returns the options every registry operation uses:
// credentials from the caller's keychain (by default ECR's token for ECR
// registries, and the Docker config's as docker, crane and ko read them), the caller's context, and a transport that allows plain
// HTTP only when insecure is set and the registry is on loopback, and
// gives up on a registry that stays silent (see DefaultRegistryTimeout).
//
// ggcr on its own falls back to HTTP for localhost and for private
// (RFC 1918) addresses; fnopt is stricter so that credentials never cross
// a network in clear text without the user asking for it.
func remoteOptions(ctx context.Context, ref name.Reference, ro registryOptions) (name.Reference, []remote.Option, error) {
	host := ref.Context().RegistryStr()
	if ro.insecure {
		if !isLoopback(host) {
			return nil, nil, &InsecureHostError{Host: host}
		}
		var err error
		ref, err = name.ParseReference(ref.String(), name.Insecure)
		if err != nil {
			return nil, nil, fmt.Errorf("image reference %q: %w", ref, err)
		}
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(ro.keychainOrDefault()),
		remote.WithTransport(httpPolicy{base: newTransport(ro.timeoutOrDefault()), allowHTTP: ro.insecure}),
	}
	return ref, opts, nil
}

// keychainOrDefault is the caller's keychain, or by default Amazon ECR's
// token for ECR registries (as ko gets it, with no `docker login`) and the
// Docker config's credentials for the others.
func (ro registryOptions) keychainOrDefault() authn.Keychain {
	if ro.keychain != nil {
		return ro.keychain
	}
	return authn.NewMultiKeychain(&ecrauth.Keychain{}, authn.DefaultKeychain)
}

func (ro registryOptions) timeoutOrDefault() time.Duration {
	if ro.timeout > 0 {
		return ro.timeout
	}
	return DefaultRegistryTimeout
}

// newTransport is http.DefaultTransport with a deadline on every step:
// connecting, the TLS handshake, the answer to a request, and each read
// and write on the connection (idleConn). http.DefaultTransport has none
// for the answer and none for a transfer that stops.
func newTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: c, idle: timeout}, nil
	}
	t.TLSHandshakeTimeout = timeout
	t.ResponseHeaderTimeout = timeout
	return t
}

// idleConn fails a read or a write when no byte has moved on the
// connection, either way, for idle. Writing pushes the read deadline too:
// while a large layer is being uploaded the registry has nothing to say,
// and that silence is not the registry's.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(b []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(b)
}

func (c *idleConn) Write(b []byte) (int, error) {
	deadline := time.Now().Add(c.idle)
	c.Conn.SetWriteDeadline(deadline)
	c.Conn.SetReadDeadline(deadline)
	return c.Conn.Write(b)
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
var errPlainHTTP = errors.New("plain HTTP not allowed")

// httpPolicy refuses http:// requests unless allowHTTP, and makes a
// timeout final.
type httpPolicy struct {
	base      http.RoundTripper
	allowHTTP bool
}

func (p httpPolicy) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !p.allowHTTP {
		return nil, errPlainHTTP
	}
	resp, err := p.base.RoundTrip(req)
	var nerr net.Error
	if err != nil && errors.As(err, &nerr) && nerr.Timeout() {
		// ggcr retries temporary errors, and net/http calls its
		// timeouts temporary: a registry that stayed silent that long
		// would be waited for three times over.
		return nil, finalTimeout{err}
	}
	return resp, err
}

// finalTimeout is a timeout that is not temporary: ggcr does not retry it.
type finalTimeout struct{ err error }

func (f finalTimeout) Error() string   { return f.err.Error() }
func (f finalTimeout) Unwrap() error   { return f.err }
func (f finalTimeout) Timeout() bool   { return true }
func (f finalTimeout) Temporary() bool { return false }

// registryError turns what ggcr returns into one line that says what
// failed and what to do. The order matters: ggcr tries HTTPS and then
// plain HTTP for a loopback registry and reports both failures, so a
// refused connection or a timeout (nothing listens, or nothing answers)
// is told before a refused plain-HTTP attempt. The caller's context is
// asked whether it ended the operation: net/http's own timeouts also
// match context.DeadlineExceeded.
func registryError(ctx context.Context, op string, ref name.Reference, err error, ro registryOptions) error {
	host := ref.Context().RegistryStr()
	msg := oneLine(err.Error())
	var terr *transport.Error
	var dnsErr *net.DNSError
	var nerr net.Error
	var opErr *net.OpError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s %s: %w", op, ref, ctx.Err())
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%s %s: cannot reach registry %s (connection refused); check the address and that the registry is running", op, ref, host)
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
		return fmt.Errorf("%s %s: cannot reach registry %s (no answer to connecting within %s); check the address and the network", op, ref, host, ro.timeoutOrDefault())
	case errors.As(err, &nerr) && nerr.Timeout():
		return &SilentRegistryError{Op: op, Ref: ref.String(), Host: host, After: ro.timeoutOrDefault(), Err: err}
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return &PlainHTTPError{Op: op, Ref: ref.String(), Host: host, Loopback: isLoopback(host)}
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
	if errors.As(err, &nerr) {
		return fmt.Errorf("%s %s: cannot reach registry %s: %s", op, ref, host, msg)
	}
	return fmt.Errorf("%s %s: %s", op, ref, msg)
}

// oneLine joins a multi-line message so that errors stay one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
