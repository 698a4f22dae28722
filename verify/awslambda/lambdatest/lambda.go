package lambdatest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fnopt/fnopt/verify"
)

// function is one Lambda function of the double.
type function struct {
	name, arn   string
	runtime     string
	role        string
	handler     string
	description string
	arch        string
	memoryMB    int
	timeoutS    int
	packageType string
	imageURI    string
	env         map[string]string
	tags        map[string]string
	codeSize    int64
	codeSHA     string
	// taskRoot holds the extracted zip.
	taskRoot string

	activeAt     time.Time // State is Pending before, Active after
	updatedAt    time.Time // LastUpdateStatus is InProgress before
	lastModified time.Time

	// image is an Image function's image, pulled at the first
	// invocation.
	imageMu sync.Mutex
	image   *verify.Target

	mu sync.Mutex
	// generation counts configuration changes; environments of an older
	// one are retired.
	generation int
	idle       []*environment
	busy       map[*environment]bool
}

// configuration is Lambda's FunctionConfiguration on the wire.
func (f *function) configuration(now time.Time) map[string]any {
	state, reason, reasonCode := "Active", "", ""
	if now.Before(f.activeAt) {
		state, reason, reasonCode = "Pending", "The function is being created.", "Creating"
	}
	update := "Successful"
	if now.Before(f.updatedAt) {
		update = "InProgress"
	}
	c := map[string]any{
		"FunctionName":     f.name,
		"FunctionArn":      f.arn,
		"Role":             f.role,
		"CodeSize":         f.codeSize,
		"CodeSha256":       f.codeSHA,
		"Description":      f.description,
		"Timeout":          f.timeoutS,
		"MemorySize":       f.memoryMB,
		"LastModified":     f.lastModified.UTC().Format("2006-01-02T15:04:05.000-0700"),
		"Version":          "$LATEST",
		"State":            state,
		"LastUpdateStatus": update,
		"PackageType":      f.packageType,
		"Architectures":    []string{f.arch},
		"Environment":      map[string]any{"Variables": f.env},
		"RevisionId":       fmt.Sprintf("%d", f.generation),
	}
	if f.packageType == "Zip" {
		c["Runtime"], c["Handler"] = f.runtime, f.handler
	}
	if reason != "" {
		c["StateReason"], c["StateReasonCode"] = reason, reasonCode
	}
	return c
}

var (
	functionsPath = regexp.MustCompile(`^/2015-03-31/functions/?$`)
	functionPath  = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)(/configuration|/invocations)?/?$`)
	tagsPath      = regexp.MustCompile(`^/2017-03-31/tags/(.+)$`)
	namePattern   = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}$`)
	rolePattern   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
)

// serveLambda routes Lambda's REST API.
func (s *Server) serveLambda(w http.ResponseWriter, r *http.Request, body []byte) {
	p := r.URL.EscapedPath()
	if functionsPath.MatchString(p) {
		switch r.Method {
		case http.MethodPost:
			s.lambdaCall(w, "lambda:CreateFunction", "", func() { s.createFunction(w, body) })
		case http.MethodGet:
			s.lambdaCall(w, "lambda:ListFunctions", "", func() { s.listFunctions(w, r) })
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		}
		return
	}
	if m := tagsPath.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		arn, _ := url.PathUnescape(m[1])
		s.lambdaCall(w, "lambda:ListTags", arn, func() { s.listTags(w, arn) })
		return
	}
	m := functionPath.FindStringSubmatch(p)
	if m == nil {
		http.Error(w, "no such path in the double: "+p, 404)
		return
	}
	name, _ := url.PathUnescape(m[1])
	name = path.Base(strings.ReplaceAll(name, ":", "/")) // an ARN's last part
	switch {
	case m[2] == "" && r.Method == http.MethodGet:
		s.lambdaCall(w, "lambda:GetFunction", name, func() {
			s.withFunction(w, name, func(f *function) {
				writeJSON(w, 200, map[string]any{"Configuration": f.configuration(time.Now()), "Tags": f.tags})
			})
		})
	case m[2] == "" && r.Method == http.MethodDelete:
		s.lambdaCall(w, "lambda:DeleteFunction", name, func() { s.deleteFunction(w, name) })
	case m[2] == "/configuration" && r.Method == http.MethodGet:
		s.lambdaCall(w, "lambda:GetFunctionConfiguration", name, func() {
			s.withFunction(w, name, func(f *function) { writeJSON(w, 200, f.configuration(time.Now())) })
		})
	case m[2] == "/configuration" && r.Method == http.MethodPut:
		s.lambdaCall(w, "lambda:UpdateFunctionConfiguration", name, func() { s.updateConfiguration(w, name, body) })
	case m[2] == "/invocations" && r.Method == http.MethodPost:
		s.lambdaCall(w, "lambda:InvokeFunction", name, func() { s.invoke(w, r, name, body) })
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// lambdaCall answers with an injected fault, or does the call.
func (s *Server) lambdaCall(w http.ResponseWriter, action, resource string, do func()) {
	f, ok := s.takeFault(action)
	if !ok {
		do()
		return
	}
	switch f.code {
	case "AccessDeniedException":
		if resource == "" {
			resource = "arn:aws:lambda:" + Region + ":" + Account + ":function:*"
		}
		lambdaError(w, f.status, f.code, fmt.Sprintf("User: arn:aws:iam::%s:user/fnopt-test is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", Account, action, resource, action))
	case "TooManyRequestsException":
		w.Header().Set("Retry-After", fmt.Sprint(s.opts.RetryAfter))
		w.Header().Set("X-Amzn-ErrorType", f.code)
		writeJSON(w, f.status, map[string]string{"Reason": "CallerRateLimitExceeded", "Type": "User", "message": "Rate exceeded"})
	case "ResourceConflictException":
		lambdaError(w, f.status, f.code, "The operation cannot be performed at this time. An update is in progress for resource: "+resource)
	default:
		lambdaError(w, f.status, f.code, "injected fault")
	}
}

// lambdaError writes an error as Lambda's REST-JSON protocol does: the
// type in X-Amzn-ErrorType, the message in the body.
func lambdaError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	writeJSON(w, status, map[string]string{"Type": "User", "Message": message})
}

func (s *Server) withFunction(w http.ResponseWriter, name string, do func(*function)) {
	s.mu.Lock()
	f := s.functions[name]
	s.mu.Unlock()
	if f == nil {
		lambdaError(w, 404, "ResourceNotFoundException", fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s", Region, Account, name))
		return
	}
	do(f)
}

type createRequest struct {
	FunctionName  string
	Runtime       string
	Role          string
	Handler       string
	Description   string
	Timeout       *int
	MemorySize    *int
	PackageType   string
	Architectures []string
	Environment   struct{ Variables map[string]string }
	Tags          map[string]string
	Code          struct {
		ZipFile  []byte
		ImageUri string
		S3Bucket string
	}
}

func (s *Server) createFunction(w http.ResponseWriter, body []byte) {
	var req createRequest
	if err := json.Unmarshal(body, &req); err != nil {
		lambdaError(w, 400, "InvalidParameterValueException", "body: "+err.Error())
		return
	}
	invalid := func(msg string) { lambdaError(w, 400, "InvalidParameterValueException", msg) }
	switch {
	case !namePattern.MatchString(req.FunctionName):
		invalid("invalid function name " + req.FunctionName)
		return
	case !rolePattern.MatchString(req.Role):
		lambdaError(w, 400, "ValidationException", "1 validation error detected: Value '"+req.Role+"' at 'role' failed to satisfy constraint")
		return
	}
	f := &function{
		name: req.FunctionName, arn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, Account, req.FunctionName),
		runtime: req.Runtime, role: req.Role, handler: req.Handler, description: req.Description,
		arch: "x86_64", memoryMB: 128, timeoutS: 3, packageType: req.PackageType,
		env: req.Environment.Variables, tags: req.Tags, busy: map[*environment]bool{},
	}
	if f.packageType == "" {
		f.packageType = "Zip"
	}
	if len(req.Architectures) > 0 {
		f.arch = req.Architectures[0]
	}
	if req.MemorySize != nil {
		f.memoryMB = *req.MemorySize
	}
	if req.Timeout != nil {
		f.timeoutS = *req.Timeout
	}
	if f.memoryMB < 128 || f.memoryMB > 10240 || f.timeoutS < 1 || f.timeoutS > 900 || (f.arch != "x86_64" && f.arch != "arm64") {
		invalid("memory, timeout or architecture out of range")
		return
	}
	switch f.packageType {
	case "Zip":
		if len(req.Code.ZipFile) == 0 {
			invalid("Code: ZipFile is required for a Zip function (the double does not stage through S3)")
			return
		}
		if !strings.HasPrefix(f.runtime, "provided") || f.handler == "" {
			invalid("the double runs custom runtimes (provided.*) only")
			return
		}
		dir, err := extractZip(req.Code.ZipFile)
		if err != nil {
			invalid("Could not unzip uploaded file: " + err.Error())
			return
		}
		f.taskRoot = dir
		f.codeSize = int64(len(req.Code.ZipFile))
		sum := sha256.Sum256(req.Code.ZipFile)
		f.codeSHA = base64.StdEncoding.EncodeToString(sum[:])
	case "Image":
		if req.Code.ImageUri == "" {
			invalid("Code: ImageUri is required for an Image function")
			return
		}
		f.imageURI = req.Code.ImageUri
	default:
		invalid("PackageType " + f.packageType)
		return
	}
	now := time.Now()
	f.activeAt, f.updatedAt, f.lastModified = now.Add(s.opts.StateDelay), now, now
	s.mu.Lock()
	if _, exists := s.functions[f.name]; exists {
		s.mu.Unlock()
		if f.taskRoot != "" {
			os.RemoveAll(f.taskRoot)
		}
		lambdaError(w, 409, "ResourceConflictException", "Function already exist: "+f.name)
		return
	}
	s.functions[f.name] = f
	s.mu.Unlock()
	writeJSON(w, 201, f.configuration(now))
}

// extractZip unpacks a deployment zip into a new folder (names that
// would leave it are refused).
func extractZip(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "fnopt-lambdatest-")
	if err != nil {
		return "", err
	}
	for _, zf := range zr.File {
		name := filepath.Clean(zf.Name)
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			os.RemoveAll(dir)
			return "", fmt.Errorf("unsafe name %q", zf.Name)
		}
		dst := filepath.Join(dir, name)
		if zf.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return "", err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		rc, err := zf.Open()
		if err != nil {
			return "", err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, b, zf.Mode().Perm()|0o400); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var fns []*function
	for _, f := range s.functions {
		fns = append(fns, f)
	}
	s.mu.Unlock()
	sort.Slice(fns, func(i, j int) bool { return fns[i].name < fns[j].name })
	// Pages of two, so that callers must follow NextMarker.
	start := 0
	if m := r.URL.Query().Get("Marker"); m != "" {
		for start < len(fns) && fns[start].name <= m {
			start++
		}
	}
	end := min(start+2, len(fns))
	out := map[string]any{"Functions": []any{}}
	var page []any
	now := time.Now()
	for _, f := range fns[start:end] {
		page = append(page, f.configuration(now))
	}
	if page != nil {
		out["Functions"] = page
	}
	if end < len(fns) {
		out["NextMarker"] = fns[end-1].name
	}
	writeJSON(w, 200, out)
}

func (s *Server) listTags(w http.ResponseWriter, arn string) {
	s.withFunction(w, path.Base(strings.ReplaceAll(arn, ":", "/")), func(f *function) {
		writeJSON(w, 200, map[string]any{"Tags": f.tags})
	})
}

func (s *Server) deleteFunction(w http.ResponseWriter, name string) {
	s.mu.Lock()
	f := s.functions[name]
	delete(s.functions, name)
	if f != nil {
		s.deleted = append(s.deleted, name)
	}
	s.mu.Unlock()
	if f == nil {
		lambdaError(w, 404, "ResourceNotFoundException", fmt.Sprintf("Function not found: arn:aws:lambda:%s:%s:function:%s", Region, Account, name))
		return
	}
	f.stopAll()
	f.closeImage()
	if f.taskRoot != "" {
		os.RemoveAll(f.taskRoot)
	}
	w.WriteHeader(204)
}

func (s *Server) updateConfiguration(w http.ResponseWriter, name string, body []byte) {
	var req struct {
		Environment *struct{ Variables map[string]string }
		MemorySize  *int
		Timeout     *int
	}
	if err := json.Unmarshal(body, &req); err != nil {
		lambdaError(w, 400, "InvalidParameterValueException", "body: "+err.Error())
		return
	}
	s.withFunction(w, name, func(f *function) {
		now := time.Now()
		f.mu.Lock()
		switch {
		case now.Before(f.activeAt):
			f.mu.Unlock()
			lambdaError(w, 409, "ResourceConflictException", "The operation cannot be performed at this time. The function is currently in the following state: Pending")
			return
		case now.Before(f.updatedAt):
			f.mu.Unlock()
			lambdaError(w, 409, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource: "+f.arn)
			return
		}
		if req.Environment != nil {
			f.env = req.Environment.Variables
		}
		if req.MemorySize != nil {
			f.memoryMB = *req.MemorySize
		}
		if req.Timeout != nil {
			f.timeoutS = *req.Timeout
		}
		f.updatedAt, f.lastModified = now.Add(s.opts.UpdateDelay), now
		// A new configuration retires every environment of the old one.
		f.generation++
		retired := f.idle
		f.idle = nil
		c := f.configuration(now)
		f.mu.Unlock()
		for _, e := range retired {
			e.stop()
		}
		writeJSON(w, 200, c)
	})
}

// AddFunction makes a function that is not fnopt's (as another user's
// would be), with name and tags; tests check that fnopt never touches it.
func (s *Server) AddFunction(name string, tags map[string]string, age time.Duration) {
	t := time.Now().Add(-age)
	f := &function{
		name: name, arn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, Account, name),
		runtime: "provided.al2023", handler: "bootstrap", arch: "arm64", memoryMB: 128, timeoutS: 3,
		packageType: "Zip", role: "arn:aws:iam::" + Account + ":role/other", tags: tags,
		activeAt: t, updatedAt: t, lastModified: t, busy: map[*environment]bool{},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.functions[name] = f
}
