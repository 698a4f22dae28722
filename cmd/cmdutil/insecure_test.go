package cmdutil

import (
	"errors"
	"fmt"
	"testing"

	"github.com/fnopt/fnopt/internal/oci/image"
)

func TestInsecureFlagError(t *testing.T) {
	other := errors.New("pushing x: not found in registry")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain HTTP on loopback", fmt.Errorf("image: %w", &image.PlainHTTPError{Op: "pushing", Ref: "127.0.0.1:5000/fn:v1", Host: "127.0.0.1:5000", Loopback: true}),
			"image: pushing 127.0.0.1:5000/fn:v1: registry 127.0.0.1:5000 speaks plain HTTP, not HTTPS, and plain HTTP was not allowed; pass --insecure to allow it"},
		{"plain HTTP elsewhere: the flag would not help", &image.PlainHTTPError{Op: "pulling", Ref: "example.com/fn:v1", Host: "example.com"},
			"pulling example.com/fn:v1: registry example.com speaks plain HTTP, not HTTPS; plain HTTP is allowed only to a loopback registry: use HTTPS"},
		{"insecure to a remote host", &image.InsecureHostError{Host: "example.com"},
			"--insecure: plain HTTP is allowed only to a loopback registry (localhost, 127.0.0.1, [::1]); example.com is not one: use HTTPS"},
		{"other errors as they are", other, other.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InsecureFlagError(tt.err).Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
