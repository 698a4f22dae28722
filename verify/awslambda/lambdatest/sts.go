package lambdatest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// serveSTS answers GetCallerIdentity in STS's query protocol (a form
// body, an XML answer).
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, body []byte) {
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	if f, ok := s.takeFault("sts:" + action); ok {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(f.status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>User: arn:aws:iam::%s:user/fnopt-test is not authorized to perform: sts:%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, strings.TrimSuffix(f.code, "Exception"), Account, action, newRequestID())
		return
	}
	if action != "GetCallerIdentity" {
		http.Error(w, "the double answers GetCallerIdentity only", 400)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::%s:user/fnopt-test</Arn><UserId>AIDAFNOPTTESTDOUBLE</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, Account, Account, newRequestID())
}

// RegistryUser and RegistryPassword are what ECR's authorization token
// holds: a test registry that requires them proves the token was used.
const (
	RegistryUser     = "AWS"
	RegistryPassword = "fnopt-test-ecr-token"
)

// serveECR answers ECR's JSON 1.1 protocol: GetAuthorizationToken, and
// BatchDeleteImage as accepted.
func (s *Server) serveECR(w http.ResponseWriter, r *http.Request, body []byte) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonEC2ContainerRegistry_V20150921.")
	if f, ok := s.takeFault("ecr:" + op); ok {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(f.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": f.code, "message": "User: arn:aws:iam::" + Account + ":user/fnopt-test is not authorized to perform: ecr:" + op})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op {
	case "GetAuthorizationToken":
		token := base64.StdEncoding.EncodeToString([]byte(RegistryUser + ":" + RegistryPassword))
		_ = json.NewEncoder(w).Encode(map[string]any{"authorizationData": []any{map[string]any{
			"authorizationToken": token,
			"expiresAt":          float64(time.Now().Add(12 * time.Hour).Unix()),
			"proxyEndpoint":      "http://" + s.opts.Registry,
		}}})
	case "BatchDeleteImage":
		var req struct {
			ImageIds []map[string]string `json:"imageIds"`
		}
		_ = json.Unmarshal(body, &req)
		s.mu.Lock()
		for _, id := range req.ImageIds {
			s.deletedImages = append(s.deletedImages, id["imageDigest"])
		}
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"imageIds": req.ImageIds, "failures": []any{}})
	default:
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "InvalidParameterException", "message": "the double does not answer " + op})
	}
}

// DeletedImages are the digests BatchDeleteImage was asked to delete.
func (s *Server) DeletedImages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deletedImages...)
}
