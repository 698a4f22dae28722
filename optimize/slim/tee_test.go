package slim

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

func layerSums(t *testing.T, img v1.Image, upTo int) [][32]byte {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out [][32]byte
	for i, l := range ls {
		if i == upTo {
			break
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
		out = append(out, sha256.Sum256(b))
	}
	return out
}

// TestTeeImage: two passes read the same bytes as a plain read; a pass
// that stops early (or never starts) does not hold the other up.
func TestTeeImage(t *testing.T) {
	img, err := random.Image(300<<10, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := layerSums(t, img, -1)
	for _, stopAt := range []int{0, 1, 4} {
		tee, err := newTeeImage(img, 2)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan [][32]byte)
		go func() {
			defer tee.done(0)
			done <- layerSums(t, tee.pass(0), -1)
		}()
		got1 := layerSums(t, tee.pass(1), stopAt)
		tee.done(1)
		select {
		case got0 := <-done:
			if !bytes.Equal(flat(got0), flat(want)) || !bytes.Equal(flat(got1), flat(want[:stopAt])) {
				t.Errorf("stop at %d: passes read other bytes than the layers hold", stopAt)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("stop at %d: the other pass is stuck", stopAt)
		}
	}
}

func flat(sums [][32]byte) []byte {
	var b []byte
	for _, s := range sums {
		b = append(b, s[:]...)
	}
	return b
}
