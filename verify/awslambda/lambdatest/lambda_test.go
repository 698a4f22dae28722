package lambdatest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fnopt/fnopt/internal/testenv"
)

// echoZip is a deployment zip of verify's fakefn, which answers with the
// event it gets, built for this machine.
func echoZip(t *testing.T) []byte {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a function")
	}
	data, err := os.ReadFile(testenv.Fakefn(t))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func create(t *testing.T, c *lambda.Client, name string, code []byte) *lambda.CreateFunctionOutput {
	t.Helper()
	out, err := c.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String("arn:aws:iam::" + Account + ":role/test"),
		Runtime:       types.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Architectures: []types.Architecture{types.Architecture(hostLambdaArch())},
		Code:          &types.FunctionCode{ZipFile: code},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hostLambdaArch is this machine's architecture as Lambda spells it.
func hostLambdaArch() string {
	if isARM64 {
		return "arm64"
	}
	return "x86_64"
}

// invokeTail invokes with the log tail and returns the payload and log.
func invokeTail(t *testing.T, c *lambda.Client, name, payload string) (string, string) {
	t.Helper()
	out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), LogType: types.LogTypeTail, Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	if out.FunctionError != nil {
		t.Fatalf("function error %s: %s", *out.FunctionError, out.Payload)
	}
	log, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Payload), string(log)
}

// TestStates: a new function is Pending (Invoke conflicts), a changed one
// InProgress (another change conflicts), as on Lambda.
func TestStates(t *testing.T) {
	code := echoZip(t)
	srv := Start(t, Options{StateDelay: time.Hour})
	c := client(srv, SecretAccessKey)
	out := create(t, c, "pending", code)
	if out.State != types.StatePending {
		t.Errorf("a new function is %s, want Pending", out.State)
	}
	_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("pending")})
	var rc *types.ResourceConflictException
	if !errors.As(err, &rc) {
		t.Errorf("invoking a Pending function: %v, want ResourceConflictException", err)
	}

	srv = Start(t, Options{StateDelay: time.Millisecond, UpdateDelay: time.Hour})
	c = client(srv, SecretAccessKey)
	create(t, c, "updating", code)
	waitActive(t, c, "updating")
	upd, err := c.UpdateFunctionConfiguration(context.Background(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("updating"), Environment: &types.Environment{Variables: map[string]string{"N": "1"}}})
	if err != nil || upd.LastUpdateStatus != types.LastUpdateStatusInProgress {
		t.Fatalf("update: %v, status %v, want InProgress", err, upd)
	}
	_, err = c.UpdateFunctionConfiguration(context.Background(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("updating"), Environment: &types.Environment{Variables: map[string]string{"N": "2"}}})
	if !errors.As(err, &rc) {
		t.Errorf("a change during a change: %v, want ResourceConflictException", err)
	}
}

func waitActive(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	for range 1000 {
		cfg, err := c.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.State == types.StateActive && cfg.LastUpdateStatus == types.LastUpdateStatusSuccessful {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s never became Active and Successful", name)
}

// TestInvokeEnvironments: the first invocation starts an environment
// (REPORT with Init Duration), the next reuses it, a configuration change
// retires it; deleting the function removes it.
func TestInvokeEnvironments(t *testing.T) {
	code := echoZip(t)
	srv := Start(t, Options{StateDelay: time.Millisecond, UpdateDelay: time.Millisecond})
	c := client(srv, SecretAccessKey)
	create(t, c, "echo", code)
	waitActive(t, c, "echo")

	payload, log := invokeTail(t, c, "echo", `{"n":1}`)
	if payload != `{"n":1}` {
		t.Errorf("payload %q", payload)
	}
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	// The function's own line is copied from its output pipe as it
	// comes: before START, or just after when the copy lags.
	if len(lines) < 5 || !strings.HasPrefix(lines[0], "INIT_START Runtime Version: ") || !strings.Contains(log, "\nfakefn: mode") || !strings.Contains(log, "\nSTART RequestId: ") || !strings.HasPrefix(lines[len(lines)-2], "END RequestId: ") {
		t.Errorf("log:\n%s", log)
	}
	report := lines[len(lines)-1]
	for _, field := range []string{"REPORT RequestId: ", "\tDuration: ", " ms\tBilled Duration: ", "\tMemory Size: 128 MB\t", "\tMax Memory Used: ", "\tInit Duration: "} {
		if !strings.Contains(report, field) {
			t.Errorf("cold REPORT %q lacks %q", report, field)
		}
	}
	_, log = invokeTail(t, c, "echo", `{}`)
	if strings.Contains(log, "Init Duration") {
		t.Errorf("the second invocation started a new environment:\n%s", log)
	}
	if _, err := c.UpdateFunctionConfiguration(context.Background(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("echo"), Environment: &types.Environment{Variables: map[string]string{"N": "1"}}}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, c, "echo")
	if _, log = invokeTail(t, c, "echo", `{}`); !strings.Contains(log, "\tInit Duration: ") {
		t.Errorf("after a change, an old environment answered:\n%s", log)
	}
	if _, err := c.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String("echo")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("echo")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("a deleted function: %v, want ResourceNotFoundException", err)
	}
}
