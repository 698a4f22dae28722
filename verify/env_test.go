package verify

import (
	"strings"
	"testing"
	"time"
)

// TestFunctionEnv: the function's own variables are added to Lambda's
// and replace those Lambda lets a function set; in an image they also
// win over the image's ENV.
func TestFunctionEnv(t *testing.T) {
	own := []string{"TABLE=orders", "LANG=C.UTF-8", "PATH=/opt/mine"}
	fn := Function{Env: own}
	lambda := LambdaEnv(fn, time.Now())
	got := map[string]string{}
	count := map[string]int{}
	for _, kv := range lambda {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
		count[k]++
	}
	for _, kv := range own {
		k, v, _ := strings.Cut(kv, "=")
		if got[k] != v || count[k] != 1 {
			t.Errorf("%s = %q (%d times), want %q once", k, got[k], count[k], v)
		}
	}
	if got["AWS_LAMBDA_FUNCTION_NAME"] != "function" || got["TZ"] != ":UTC" {
		t.Errorf("Lambda's variables lost: %v", lambda)
	}

	s := &sandboxStarter{imageEnv: []string{"PATH=/img/bin", "TABLE=from-image", "APP=1"}, handler: "handler.main"}
	env := strings.Join(s.env(StartSpec{Env: lambda, FunctionEnv: own}), " ")
	for _, want := range []string{"PATH=/opt/mine", "TABLE=orders", "APP=1", "LANG=C.UTF-8", "_HANDLER=handler.main"} {
		if !strings.Contains(" "+env+" ", " "+want+" ") {
			t.Errorf("image environment lacks %s: %s", want, env)
		}
	}
	if strings.Contains(env, "from-image") {
		t.Errorf("the image's ENV won over the function's own: %s", env)
	}
}
