// Package lambdatest is a protocol double of the AWS APIs fnopt verify
// --target aws calls, for tests only: an HTTP server on 127.0.0.1 that
// speaks Lambda's REST-JSON protocol at the paths the AWS SDK for Go v2
// calls (/2015-03-31/functions/...), STS's query protocol
// (GetCallerIdentity) and ECR's JSON protocol (GetAuthorizationToken),
// checks every request's SigV4 signature against the test credentials,
// and keeps Lambda's state machine: a new function is Pending, then
// Active; a configuration change is InProgress, then Successful, each
// after a delay. Invoke really runs the uploaded zip with fnopt's Runtime
// API emulator, in a new execution environment when no idle one of the
// current configuration is left (arm64 bootstraps under
// qemu-aarch64-static, for behaviour only), and answers with Lambda's
// START/END/REPORT log lines in X-Amz-Log-Result and X-Amz-Function-Error
// on errors. Errors have Lambda's shapes: ResourceNotFoundException,
// ResourceConflictException, TooManyRequestsException with Retry-After,
// AccessDeniedException.
//
// Nothing in fnopt's product code knows about it: tests point the real
// SDK at it through AWS_ENDPOINT_URL and static credentials (Env).
//
// What it leaves out: versions, aliases, layers and every API fnopt does
// not call; the function's own environment variables are not passed to
// it (the nonce fnopt changes only has to retire environments); memory is
// not limited.
package lambdatest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Test credentials: the only ones the double accepts.
const (
	AccessKeyID     = "AKIAFNOPTTESTDOUBLE1"
	SecretAccessKey = "fnopt/test/double/secret/not/a/real/key"
	Account         = "123456789012"
	Region          = "us-east-1"
)

// Options tune the double.
type Options struct {
	// StateDelay is how long a new function stays Pending; UpdateDelay
	// how long a configuration change stays InProgress (defaults 50 ms).
	StateDelay, UpdateDelay time.Duration
	// RetryAfter is the Retry-After header, in seconds, of a throttled
	// call (default 1).
	RetryAfter int
	// Registry is the host:port of the registry ECR's authorization
	// token is for (ProxyEndpoint), for image tests.
	Registry string
}

// Server is a running double.
type Server struct {
	// URL is the endpoint to point the SDK at.
	URL string

	opts Options
	hs   *httptest.Server

	mu            sync.Mutex
	functions     map[string]*function
	faults        map[string][]fault // by action ("lambda:Invoke")
	calls         map[string]int
	deleted       []string
	deletedImages []string
}

// fault is an error to answer an action with instead of doing it.
type fault struct {
	status int
	code   string
	sticky bool // answers every call, not only the next
}

// Start runs a double until the test ends; then every execution
// environment is stopped.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.StateDelay <= 0 {
		o.StateDelay = 50 * time.Millisecond
	}
	if o.UpdateDelay <= 0 {
		o.UpdateDelay = 50 * time.Millisecond
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = 1
	}
	s := &Server{opts: o, functions: map[string]*function{}, faults: map[string][]fault{}, calls: map[string]int{}}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.hs.URL
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.hs.Close()
	s.mu.Lock()
	fns := s.functions
	s.functions = map[string]*function{}
	s.mu.Unlock()
	for _, f := range fns {
		f.stopAll()
		f.closeImage()
		if f.taskRoot != "" {
			os.RemoveAll(f.taskRoot)
		}
	}
}

// Env is the environment that points the AWS SDK at the double with the
// test credentials, and keeps it from looking anywhere else (no shared
// files, no instance metadata).
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":            s.URL,
		"AWS_ACCESS_KEY_ID":           AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       SecretAccessKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  Region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             "/nonexistent/fnopt-test-aws-config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/fnopt-test-aws-credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
		// Nothing else of the credential chain may answer.
		"AWS_ROLE_ARN":                           "",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI":     "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_ENDPOINT_URL_LAMBDA":                "",
		"AWS_ENDPOINT_URL_STS":                   "",
		"AWS_ENDPOINT_URL_ECR":                   "",
	}
}

// SetEnv sets Env for the rest of the test (t.Setenv: not with
// t.Parallel).
func (s *Server) SetEnv(t testing.TB) {
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
}

// Deny answers every call of action (an IAM action, "lambda:CreateFunction")
// with AccessDeniedException from now on.
func (s *Server) Deny(action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[action] = append(s.faults[action], fault{status: 403, code: "AccessDeniedException", sticky: true})
}

// Throttle answers the next n calls of action with 429
// TooManyRequestsException and Retry-After.
func (s *Server) Throttle(action string, n int) {
	s.inject(action, n, fault{status: 429, code: "TooManyRequestsException"})
}

// Conflict answers the next n calls of action with 409
// ResourceConflictException, as Lambda does while an update is in
// progress.
func (s *Server) Conflict(action string, n int) {
	s.inject(action, n, fault{status: 409, code: "ResourceConflictException"})
}

func (s *Server) inject(action string, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[action] = append(s.faults[action], f)
	}
}

// Calls is how many calls of action the double received (faults
// included).
func (s *Server) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// Functions are the names of the functions that exist.
func (s *Server) Functions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.functions {
		out = append(out, n)
	}
	return out
}

// Deleted are the names of the functions deleted, in order.
func (s *Server) Deleted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deleted...)
}

// takeFault returns the fault to answer action with, if any.
func (s *Server) takeFault(action string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[action]++
	fs := s.faults[action]
	if len(fs) == 0 {
		return fault{}, false
	}
	f := fs[0]
	if !f.sticky {
		s.faults[action] = fs[1:]
	}
	return f, true
}

// serve checks the signature and routes by protocol: Lambda's REST paths,
// ECR's X-Amz-Target, STS's form Action.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	service, err := s.checkSignature(r, body)
	if err != nil {
		w.Header().Set("X-Amzn-ErrorType", "UnrecognizedClientException")
		writeJSON(w, 403, map[string]string{"message": err.Error()})
		return
	}
	switch service {
	case "lambda":
		s.serveLambda(w, r, body)
	case "sts":
		s.serveSTS(w, r, body)
	case "ecr":
		s.serveECR(w, r, body)
	default:
		http.Error(w, "no such service in the double: "+service, 400)
	}
}

// checkSignature verifies the request's SigV4 Authorization against the
// test credentials and returns the service it is signed for.
func (s *Server) checkSignature(r *http.Request, body []byte) (string, error) {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "", fmt.Errorf("missing SigV4 Authorization header")
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	scope := strings.Split(parts["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return "", fmt.Errorf("malformed credential scope %q", parts["Credential"])
	}
	if scope[0] != AccessKeyID {
		return "", errInvalidToken
	}
	signedAt, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "", fmt.Errorf("missing X-Amz-Date")
	}
	// Re-sign a copy that has only the signed headers, and compare.
	u, err := url.Parse(r.RequestURI)
	if err != nil {
		return "", err
	}
	u.Scheme, u.Host = "http", r.Host
	cp, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	cp.URL = u
	cp.Host = r.Host
	cp.ContentLength = r.ContentLength
	for _, h := range strings.Split(parts["SignedHeaders"], ";") {
		if h == "host" || h == "content-length" {
			continue
		}
		if v, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			cp.Header[http.CanonicalHeaderKey(h)] = v
		}
	}
	hash := r.Header.Get("X-Amz-Content-Sha256")
	if hash == "" {
		sum := sha256.Sum256(body)
		hash = hex.EncodeToString(sum[:])
	}
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, hash, scope[3], scope[2], signedAt); err != nil {
		return "", err
	}
	want := cp.Header.Get("Authorization")
	_, wantSig, _ := strings.Cut(want, "Signature=")
	if wantSig != parts["Signature"] {
		return "", errBadSignature
	}
	return scope[3], nil
}

// Lambda's words for a refused signature, as messages of the double's
// errors (AWS's own capitalisation and full stop).
var (
	errInvalidToken = errors.New("The security token included in the request is invalid.")                         //lint:ignore ST1005 AWS's wording
	errBadSignature = errors.New("The request signature we calculated does not match the signature you provided.") //lint:ignore ST1005 AWS's wording
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
