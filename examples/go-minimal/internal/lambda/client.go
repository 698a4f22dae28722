package lambda

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// client speaks just enough HTTP/1.1 to talk to the Runtime API on one
// kept-alive connection (conn.go): requests with a Content-Length body,
// responses with a Content-Length, chunked or read-to-close body. It exists
// instead of net/http because net/http (with crypto/tls, which it always
// links) would triple the size of the binary, and a smaller binary starts
// faster.
type client struct {
	addr string // host:port of the Runtime API
	conn *conn
	r    *bufio.Reader
}

type response struct {
	status int
	header map[string]string // keys in lower case
	body   []byte
}

// maxBody bounds what the client reads: Lambda's payloads are at most
// 6 MB (synchronous) or 256 KB (asynchronous); a little more is allowed
// for headers and encoding.
const maxBody = 7 << 20

// do sends one request and reads its response. A request on a kept-alive
// connection that the server has closed meanwhile is retried once on a new
// connection.
func (c *client) do(method, path, contentType string, header [][2]string, body []byte) (*response, error) {
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil
		if !reused {
			conn, err := dial(c.addr)
			if err != nil {
				return nil, fmt.Errorf("connecting to the Runtime API at %s: %w", c.addr, err)
			}
			c.conn, c.r = conn, bufio.NewReaderSize(conn, 16<<10)
		}
		resp, closeAfter, err := c.roundTrip(method, path, contentType, header, body)
		if err != nil || closeAfter {
			c.conn.Close()
			c.conn, c.r = nil, nil
		}
		if err == nil {
			return resp, nil
		}
		if !reused || attempt > 0 {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
}

func (c *client) roundTrip(method, path, contentType string, header [][2]string, body []byte) (*response, bool, error) {
	var b strings.Builder
	b.WriteString(method + " " + path + " HTTP/1.1\r\nHost: " + c.addr + "\r\nUser-Agent: go-minimal-minimal-runtime\r\n")
	if method != "GET" {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
		if contentType != "" {
			b.WriteString("Content-Type: " + contentType + "\r\n")
		}
	}
	for _, h := range header {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	// One write for small requests, two for large bodies (no copy).
	msg := []byte(b.String())
	if len(body) < 4096 {
		msg = append(msg, body...)
		body = nil
	}
	if _, err := c.conn.Write(msg); err != nil {
		return nil, false, err
	}
	if len(body) > 0 {
		if _, err := c.conn.Write(body); err != nil {
			return nil, false, err
		}
	}
	return readResponse(c.r, method)
}

// readResponse reads one HTTP/1.1 response; the bool says whether the
// connection must be closed after it.
func readResponse(r *bufio.Reader, method string) (*response, bool, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, false, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(rest, " ")
	status, err := strconv.Atoi(code)
	if !strings.HasPrefix(proto, "HTTP/1.") || err != nil || status < 100 {
		return nil, false, fmt.Errorf("malformed status line %q", line)
	}
	resp := &response{status: status, header: map[string]string{}}
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, false, err
		}
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, false, fmt.Errorf("malformed header line %q", line)
		}
		resp.header[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	closeAfter := strings.EqualFold(resp.header["connection"], "close") || proto == "HTTP/1.0"
	switch {
	case method == "HEAD" || status == 204 || status == 304 || status < 200:
	case strings.EqualFold(resp.header["transfer-encoding"], "chunked"):
		resp.body, err = readChunked(r)
	case resp.header["content-length"] != "":
		n, perr := strconv.ParseInt(resp.header["content-length"], 10, 64)
		if perr != nil || n < 0 || n > maxBody {
			return nil, false, fmt.Errorf("bad Content-Length %q", resp.header["content-length"])
		}
		resp.body = make([]byte, n)
		_, err = io.ReadFull(r, resp.body)
	default:
		resp.body, err = io.ReadAll(io.LimitReader(r, maxBody))
		closeAfter = true
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading response body: %w", err)
	}
	return resp, closeAfter, nil
}

func readChunked(r *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, err
		}
		size, _, _ := strings.Cut(line, ";") // chunk extensions are ignored
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if err != nil || n < 0 || int64(len(body))+n > maxBody {
			return nil, fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			for { // trailer section, ends with an empty line
				if line, err := readLine(r); err != nil || line == "" {
					return body, err
				}
			}
		}
		start := len(body)
		body = append(body, make([]byte, n)...)
		if _, err := io.ReadFull(r, body[start:]); err != nil {
			return nil, err
		}
		if line, err := readLine(r); err != nil || line != "" {
			return nil, errors.New("chunk not followed by CRLF")
		}
	}
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		if err == io.EOF && line == "" {
			return "", io.ErrUnexpectedEOF
		}
		return "", err
	}
	if len(line) > 64<<10 {
		return "", errors.New("header line too long")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
