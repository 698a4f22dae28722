package runtimeapi_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// TestArrivalTime sends the first /next in two parts, 200 ms apart: with a
// TimedListener the end of init is when its first bytes arrived, not when
// the request was complete.
func TestArrivalTime(t *testing.T) {
	srv := runtimeapi.New(runtimeapi.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ConnContext: runtimeapi.ConnContext}
	go hs.Serve(runtimeapi.TimedListener(ln))
	t.Cleanup(func() { srv.Close(); hs.Close() })

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := time.Now()
	if _, err := c.Write([]byte("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	completed := time.Now()
	if _, err := c.Write([]byte("Host: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	at, err := srv.WaitNext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if at.Before(sent) || !at.Before(completed) {
		t.Errorf("init ended at +%v, want in [0, %v) after the first bytes were sent", at.Sub(sent), completed.Sub(sent))
	}
}
