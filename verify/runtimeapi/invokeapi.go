package runtimeapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// InvokePath is the path of Lambda's Invoke API for a function name.
func InvokePath(function string) string {
	return "/2015-03-31/functions/" + function + "/invocations"
}

// NewInvokeAPI returns a handler for Lambda's Invoke API
// (POST /2015-03-31/functions/{name}/invocations) that invokes srv's
// function, so that a person can drive it with curl:
//
//	curl -d '{"hello":"world"}' http://127.0.0.1:9001/2015-03-31/functions/function/invocations
//
// Any function name is accepted: one emulator serves one function. It
// answers as Lambda does: 200 with the function's response, or 200 with
// X-Amz-Function-Error: Unhandled and the error document; the
// X-Amz-Invocation-Type header may ask for Event (202, not waited for) or
// DryRun (204); X-Amz-Client-Context (base64 JSON) is passed to the
// function.
func NewInvokeAPI(srv *Server) http.Handler { return &invokeAPI{srv: srv} }

type invokeAPI struct{ srv *Server }

func (a *invokeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	name, ok2 := strings.CutSuffix(rest, "/invocations")
	if !ok || !ok2 || name == "" || strings.Contains(name, "/") {
		writeInvokeError(w, http.StatusNotFound, "ResourceNotFoundException", "no such path: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeInvokeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use POST")
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		writeInvokeError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading the payload: "+err.Error())
		return
	}
	if len(payload) > MaxResponseBytes {
		writeInvokeError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxResponseBytes))
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	req := Request{Payload: payload}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		doc, err := base64.StdEncoding.DecodeString(cc)
		if err != nil {
			writeInvokeError(w, http.StatusBadRequest, "InvalidRequestContentException", "X-Amz-Client-Context must be base64-encoded JSON")
			return
		}
		req.ClientContext = string(doc)
	}
	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		// Runs until the function answers or the server is closed.
		go func() { _, _ = a.srv.InvokeRequest(context.Background(), req) }()
		w.WriteHeader(http.StatusAccepted)
		return
	default:
		writeInvokeError(w, http.StatusBadRequest, "InvalidParameterValueException", "unknown X-Amz-Invocation-Type "+typ)
		return
	}

	res, err := a.srv.InvokeRequest(r.Context(), req)
	if err != nil {
		writeInvokeError(w, http.StatusServiceUnavailable, "ServiceException", err.Error())
		return
	}
	h := w.Header()
	h.Set("X-Amzn-RequestId", res.RequestID)
	h.Set("X-Amz-Executed-Version", a.srv.opts.FunctionVersion)
	h.Set("Content-Type", "application/json")
	body := res.Body
	if res.Error != nil {
		h.Set("X-Amz-Function-Error", ErrorTypeUnhandled)
		// The runtime's own document as it posted it, as Lambda answers;
		// the emulator's errors (timeout, oversized response) have none.
		body = res.Error.posted
		if body == nil {
			body = marshalError(res.Error)
		}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeInvokeError answers like Lambda's service errors: the type in
// X-Amzn-ErrorType and a {"Type","message"} document.
func writeInvokeError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(code)
	doc, _ := json.Marshal(struct {
		Type    string `json:"Type"`
		Message string `json:"message"`
	}{"User", msg})
	_, _ = w.Write(append(doc, '\n'))
}
