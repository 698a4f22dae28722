// Package httpevent serves a Lambda function as plain HTTP, as API
// Gateway's HTTP API (payload format 2.0) and Lambda function URLs do:
// each request becomes the event the function is written for, and its
// answer becomes the HTTP response. `fnopt verify --serve --http` puts it
// in front of the Runtime API emulator.
package httpevent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Kind is the event shape a function is written for.
type Kind string

const (
	// HTTPAPI is API Gateway's HTTP API, payload format 2.0.
	HTTPAPI Kind = "http"
	// FunctionURL is a Lambda function URL (the same format, without
	// route or stage).
	FunctionURL Kind = "url"
)

// ParseKind accepts fnopt.yaml's event names for HTTP functions.
func ParseKind(event string) (Kind, error) {
	switch Kind(event) {
	case HTTPAPI, FunctionURL:
		return Kind(event), nil
	}
	return "", fmt.Errorf("the function's event is %q, not HTTP: plain HTTP can be translated for http (API Gateway HTTP API) and url (function URL) functions", event)
}

// MaxBodyBytes is the largest request accepted: Lambda's 6 MB payload
// limit for a synchronous invocation, before base64 or the event around it.
const MaxBodyBytes = 6 << 20

// Invoker sends one event to the function and returns its answer: the
// response document, or an error when the function failed (an error it
// reported, a crash, a timeout) or could not be reached.
type Invoker func(ctx context.Context, event []byte) ([]byte, error)

// Handler returns the HTTP front of a function of the given kind; account
// is the account ID its events carry. A failed invocation, or an answer
// that is not a valid response, is a 500 {"message":"Internal Server
// Error"}, as API Gateway answers, and one line on log saying why.
func Handler(kind Kind, account string, invoke Invoker, log io.Writer) http.Handler {
	return &handler{kind: kind, account: account, invoke: invoke, log: log}
}

type handler struct {
	kind    Kind
	account string
	invoke  Invoker
	log     io.Writer
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	event, err := Event(h.kind, r, body, h.account, time.Now())
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	answer, err := h.invoke(r.Context(), event)
	if err != nil {
		fmt.Fprintf(h.log, "fnopt: %s %s: %v\n", r.Method, r.URL.RequestURI(), err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := WriteResponse(w, answer); err != nil {
		fmt.Fprintf(h.log, "fnopt: %s %s: %v\n", r.Method, r.URL.RequestURI(), err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// writeMessage answers as API Gateway does for its own errors.
func writeMessage(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	doc, _ := json.Marshal(map[string]string{"message": msg})
	_, _ = w.Write(doc)
}

// Event is the event kind's document for one request with its body read.
// Header names are lower-cased and repeated values joined with commas;
// cookies move from the Cookie header to "cookies"; a body that is not
// UTF-8 text of a textual type is base64-encoded.
func Event(kind Kind, r *http.Request, body []byte, account string, now time.Time) ([]byte, error) {
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[name] = strings.Join(values, ",")
	}
	// Go keeps Host apart from the other headers; API Gateway has it.
	headers["host"] = r.Host
	if r.ContentLength > 0 && headers["content-length"] == "" {
		headers["content-length"] = strconv.FormatInt(r.ContentLength, 10)
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	text, encoded := encodeBody(body, r.Header.Get("Content-Type"))
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	httpDesc := events.APIGatewayV2HTTPRequestContextHTTPDescription{
		Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: sourceIP, UserAgent: r.UserAgent(),
	}
	id := requestID()
	prefix, _, _ := strings.Cut(r.Host, ".")
	// API Gateway's time format: 12/Mar/2020:19:03:58 +0000.
	at := now.UTC().Format("02/Jan/2006:15:04:05 -0700")
	switch kind {
	case HTTPAPI:
		return json.Marshal(events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: "$default",
			RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
			Cookies: cookies, Headers: headers, QueryStringParameters: query,
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RouteKey: "$default", Stage: "$default", AccountID: account, RequestID: id,
				APIID: "local", DomainName: r.Host, DomainPrefix: prefix,
				Time: at, TimeEpoch: now.UnixMilli(), HTTP: httpDesc,
			},
			Body: text, IsBase64Encoded: encoded,
		})
	case FunctionURL:
		return json.Marshal(events.LambdaFunctionURLRequest{
			Version: "2.0", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
			Cookies: cookies, Headers: headers, QueryStringParameters: query,
			RequestContext: events.LambdaFunctionURLRequestContext{
				AccountID: account, RequestID: id, APIID: "local", DomainName: r.Host, DomainPrefix: prefix,
				Time: at, TimeEpoch: now.UnixMilli(),
				HTTP: events.LambdaFunctionURLRequestContextHTTPDescription(httpDesc),
			},
			Body: text, IsBase64Encoded: encoded,
		})
	}
	return nil, fmt.Errorf("unknown event kind %q", kind)
}

// encodeBody returns the body as the event carries it: as it is when it
// is UTF-8 text of a textual content type, base64 otherwise.
func encodeBody(body []byte, contentType string) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	if textual(contentType) && utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/x-www-form-urlencoded", "application/graphql":
		return true
	}
	return false
}

// response is payload format 2.0's answer. StatusCode is a pointer: an
// answer without one is the plain-document case.
type response struct {
	StatusCode        *int                `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// WriteResponse writes the function's answer as HTTP, by payload format
// 2.0's rules: an object with a statusCode gives the status, headers,
// cookies (one Set-Cookie each) and body (decoded when isBase64Encoded);
// any other JSON answer is a 200 application/json response whose body is
// the answer (a JSON string's text, or the document itself).
func WriteResponse(w http.ResponseWriter, answer []byte) error {
	var res response
	if err := json.Unmarshal(answer, &res); err != nil || res.StatusCode == nil {
		body := answer
		var s string
		if json.Unmarshal(answer, &s) == nil {
			body = []byte(s)
		} else if !json.Valid(answer) {
			return errors.New("the function's answer is not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
		return nil
	}
	if *res.StatusCode < 100 || *res.StatusCode > 599 {
		return fmt.Errorf("the function answered statusCode %d, which is not an HTTP status", *res.StatusCode)
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			return errors.New("the function's answer says isBase64Encoded but its body is not base64")
		}
	}
	h := w.Header()
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	for _, c := range res.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(*res.StatusCode)
	_, _ = w.Write(body)
	return nil
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
