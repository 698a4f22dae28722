package lambdatest

import "net/http"

// invokeImage answers an invocation of an image function.
func (s *Server) invokeImage(w http.ResponseWriter, r *http.Request, f *function, payload []byte) {
	lambdaError(w, 400, "InvalidParameterValueException", "the double runs zip functions only")
}
