package verify

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Function is the configuration the function sees through its
// environment, as Lambda sets it.
type Function struct {
	Name     string // default "function"
	Version  string // default $LATEST
	MemoryMB int    // default 128, Lambda's default
	Region   string // default us-east-1
	// Handler is the _HANDLER setting; custom runtimes usually ignore it.
	Handler string // default "bootstrap"
	// TaskRoot is LAMBDA_TASK_ROOT, where the code is: /var/task on
	// Lambda, the extracted artifact's folder on the host.
	TaskRoot string
	// RuntimeDir is LAMBDA_RUNTIME_DIR: /var/runtime on Lambda.
	RuntimeDir string
	// Env is the function's own variables (KEY=VALUE), as its
	// configuration's Environment sets them (see internal/function/
	// environ, which refuses the names Lambda reserves). They are added
	// to Lambda's, and replace the few Lambda lets a function change
	// (PATH, LANG, LD_LIBRARY_PATH).
	Env []string
}

func (f Function) withDefaults() Function {
	if f.Name == "" {
		f.Name = "function"
	}
	if f.Version == "" {
		f.Version = "$LATEST"
	}
	if f.MemoryMB <= 0 {
		f.MemoryMB = 128
	}
	if f.Region == "" {
		f.Region = "us-east-1"
	}
	if f.Handler == "" {
		f.Handler = "bootstrap"
	}
	if f.TaskRoot == "" {
		f.TaskRoot = "/var/task"
	}
	if f.RuntimeDir == "" {
		f.RuntimeDir = "/var/runtime"
	}
	return f
}

// LambdaEnv is the complete environment Lambda gives a provided.al2023
// function, except AWS_LAMBDA_RUNTIME_API, which the starter adds. Nothing
// of fnopt's own environment leaks in: no credentials, no HOME, no
// GOMAXPROCS. AWS_EXECUTION_ENV is not set: Lambda defines it only for
// managed language runtimes, not for the OS-only provided family; and
// there are no AWS credentials (AWS_ACCESS_KEY_ID ...), so SDK calls in
// init fail fast instead of reaching AWS.
func LambdaEnv(f Function, now time.Time) []string {
	f = f.withDefaults()
	var stream [16]byte
	_, _ = rand.Read(stream[:])
	env := []string{
		"_HANDLER=" + f.Handler,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=" + f.Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(f.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + f.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + now.UTC().Format("2006/01/02") + "/[" + f.Version + "]" + hex.EncodeToString(stream[:]),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_REGION=" + f.Region,
		"AWS_DEFAULT_REGION=" + f.Region,
		"LAMBDA_TASK_ROOT=" + f.TaskRoot,
		"LAMBDA_RUNTIME_DIR=" + f.RuntimeDir,
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LD_LIBRARY_PATH=/lib64:/usr/lib64:" + f.RuntimeDir + ":" + f.RuntimeDir + "/lib:" + f.TaskRoot + ":" + f.TaskRoot + "/lib:/opt/lib",
	}
	return overlay(env, f.Env)
}

// overlay is env with each KEY=VALUE of vars replacing the same key's
// entry, or appended.
func overlay(env, vars []string) []string {
	at := make(map[string]int, len(env))
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		at[k] = i
	}
	for _, kv := range vars {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := at[k]; ok {
			env[i] = kv
			continue
		}
		at[k] = len(env)
		env = append(env, kv)
	}
	return env
}
