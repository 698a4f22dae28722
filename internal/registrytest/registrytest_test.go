package registrytest

import (
	"net/http"
	"testing"
	"time"
)

func TestRegistries(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(testing.TB) string
	}{
		{"docker-registry", Start},
		{"in-process", InProcess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var host string
			t.Run("serve", func(t *testing.T) {
				host = tc.start(t)
				resp, err := http.Get("http://" + host + "/v2/")
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET /v2/: %s", resp.Status)
				}
			})
			// The subtest's cleanup stopped the server.
			c := &http.Client{Timeout: 2 * time.Second}
			if resp, err := c.Get("http://" + host + "/v2/"); err == nil {
				resp.Body.Close()
				t.Fatalf("registry on %s still answers after the test ended", host)
			}
		})
	}
}
