package runtimeapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// drainLimit bounds how much of an oversized body is read and thrown away
// before answering 413, so that an ordinary HTTP client sees the 413
// instead of a reset connection, while a runaway sender cannot keep the
// emulator busy for long.
const drainLimit = 64 << 20

// postResponse takes the function's answer to invocation id.
func (s *Server) postResponse(w http.ResponseWriter, r *http.Request, id string) {
	inv := s.lookup(w, id)
	if inv == nil {
		return
	}
	streaming := strings.EqualFold(r.Header.Get(HeaderResponseMode), "streaming")
	limit := int64(MaxResponseBytes)
	if streaming {
		limit = MaxStreamedResponseBytes
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		// The function went away mid-response: Lambda fails the invocation.
		s.finish(inv, nil, &FunctionError{Type: "Runtime.TruncatedResponse", Message: "reading the response: " + err.Error()})
		writeError(w, http.StatusBadRequest, "InvalidResponse", "reading the response body: "+err.Error())
		return
	}
	if int64(len(body)) > limit {
		n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, drainLimit))
		size := int64(len(body)) + n
		msg := fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", size, limit)
		if !s.finish(inv, nil, &FunctionError{Type: ErrorTypeResponseTooLarge, Message: msg}) {
			writeError(w, http.StatusBadRequest, "InvalidRequestID", "request ID "+id+" was already answered or timed out")
			return
		}
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	}
	var ferr *FunctionError
	if streaming {
		// A streamed response reports a failure after its body, in trailers.
		ferr = trailerError(r.Trailer)
	}
	if !s.finish(inv, body, ferr) {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "request ID "+id+" was already answered or timed out")
		return
	}
	writeAccepted(w)
}

// trailerError reads the error a streamed response reported in its
// trailers, or returns nil.
func trailerError(t http.Header) *FunctionError {
	typ := t.Get(HeaderErrorType)
	if typ == "" {
		return nil
	}
	ferr := &FunctionError{Type: typ}
	if raw := t.Get(HeaderErrorBody); raw != "" {
		if doc, err := base64.StdEncoding.DecodeString(raw); err == nil {
			if parsed := parseErrorBody(doc); parsed != nil {
				ferr.Message, ferr.StackTrace = parsed.Message, parsed.StackTrace
			} else {
				ferr.Message = string(doc)
			}
		}
	}
	return ferr
}

// postError takes the function's report that invocation id failed.
func (s *Server) postError(w http.ResponseWriter, r *http.Request, id string) {
	inv := s.lookup(w, id)
	if inv == nil {
		return
	}
	body, ferr, ok := readErrorReport(w, r)
	if !ok {
		return
	}
	if !s.finish(inv, body, ferr) {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "request ID "+id+" was already answered or timed out")
		return
	}
	writeAccepted(w)
}

// postInitError takes the function's report that its init failed. Only
// the first report before the first /next counts; after that the runtime
// is past init, and Lambda answers 403.
func (s *Server) postInitError(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	late := !s.firstNextAt.IsZero() || s.initErr != nil
	s.mu.Unlock()
	if late {
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "init error after init ended or already reported")
		return
	}
	_, ferr, ok := readErrorReport(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if !s.firstNextAt.IsZero() || s.initErr != nil {
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "init error after init ended or already reported")
		return
	}
	s.initErr = ferr
	close(s.initErrCh)
	s.mu.Unlock()
	writeAccepted(w)
}

// readErrorReport reads an /error or /init/error request: the type,
// message and stack trace from the JSON body, the
// Lambda-Runtime-Function-Error-Type header apart (HeaderType; the type
// when the body has none). A body that is not the documented JSON is kept
// whole as the message.
func readErrorReport(w http.ResponseWriter, r *http.Request) ([]byte, *FunctionError, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidErrorBody", "reading the error body: "+err.Error())
		return nil, nil, false
	}
	if len(body) > MaxResponseBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("error payload exceeded maximum allowed payload size (%d bytes)", MaxResponseBytes))
		return nil, nil, false
	}
	ferr := parseErrorBody(body)
	if ferr == nil {
		ferr = &FunctionError{Message: string(bytes.TrimSpace(body))}
	}
	ferr.HeaderType = r.Header.Get(HeaderErrorType)
	ferr.posted = body
	if ferr.Type == "" {
		ferr.Type = ferr.HeaderType
	}
	if ferr.Type == "" {
		ferr.Type = ErrorTypeUnhandled
	}
	return body, ferr, true
}

func parseErrorBody(body []byte) *FunctionError {
	var fe FunctionError
	if err := json.Unmarshal(body, &fe); err != nil {
		return nil
	}
	return &fe
}

func marshalError(fe *FunctionError) []byte {
	b, err := json.Marshal(fe)
	if err != nil {
		// Strings and string slices always marshal.
		panic(err)
	}
	return append(b, '\n')
}
