package verify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fakeBootstrap links fakefn as DIR/<mode>/bootstrap and returns its path.
func fakeBootstrap(t *testing.T, mode string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), mode)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	boot := filepath.Join(dir, "bootstrap")
	if err := os.Link(testBins.fakefn, boot); err != nil {
		t.Fatal(err)
	}
	return boot
}

func TestVerify(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name        string
		ctx         context.Context
		path        string
		wantErr     bool
		wantVerif   bool // a Verification comes back
		wantSamples int
		wantFailure bool
	}{
		{name: "answers", path: fakeBootstrap(t, "echo"), wantVerif: true, wantSamples: 3},
		{name: "function fails", path: fakeBootstrap(t, "crash"), wantVerif: true, wantFailure: true},
		{name: "no such target", path: filepath.Join(t.TempDir(), "missing"), wantErr: true},
		{name: "cancelled while measuring", ctx: cancelled, path: fakeBootstrap(t, "echo"), wantErr: true, wantVerif: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			v, err := Verify(ctx, tt.path, PrepareOptions{}, Options{Samples: 3})
			if (err != nil) != tt.wantErr || (v != nil) != tt.wantVerif {
				t.Fatalf("Verify = %v, %v; want an error %v, a Verification %v", v, err, tt.wantErr, tt.wantVerif)
			}
			if v == nil {
				return
			}
			if tt.ctx != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("error %v, want context.Canceled", err)
			}
			if len(v.Run.Samples) != tt.wantSamples || (v.Run.Failure != nil) != tt.wantFailure {
				t.Errorf("%d samples, failure %v; want %d, %v", len(v.Run.Samples), v.Run.Failure, tt.wantSamples, tt.wantFailure)
			}
			// A bootstrap has no build for another architecture.
			if v.Cross != nil {
				t.Errorf("cross check %+v of a bootstrap", v.Cross)
			}
			if kids := ourChildren(t); len(kids) != 0 {
				t.Errorf("processes left: %v", kids)
			}
		})
	}
}
