package awslambda

import (
	"reflect"
	"testing"
)

// TestSpecVariables: a temporary function gets the function's own
// variables and a fresh nonce each time its configuration is written.
func TestSpecVariables(t *testing.T) {
	s := spec{env: []string{"TABLE=orders", "EMPTY="}}
	a, b := s.variables(), s.variables()
	if a[NonceVariable] == "" || a[NonceVariable] == b[NonceVariable] {
		t.Errorf("nonces %q and %q: want two different ones", a[NonceVariable], b[NonceVariable])
	}
	delete(a, NonceVariable)
	if want := map[string]string{"TABLE": "orders", "EMPTY": ""}; !reflect.DeepEqual(a, want) {
		t.Errorf("variables %v, want %v", a, want)
	}
}
