package runtimeapi

import (
	"context"
	"net"
	"sync"
	"time"
)

// The moment a function's first /next arrives is the end of its init. An
// HTTP server only sees a request after it has been scheduled to read and
// parse it, which on a busy machine can add a noticeable part of a fast
// init. TimedListener and ConnContext let the emulator use the moment the
// request's first bytes were read from the socket instead.
//
//	hs := &http.Server{Handler: srv, ConnContext: runtimeapi.ConnContext}
//	hs.Serve(runtimeapi.TimedListener(ln))

// TimedListener wraps ln so that each connection records when data first
// arrived on it.
func TimedListener(ln net.Listener) net.Listener { return timedListener{ln} }

type timedListener struct{ net.Listener }

func (l timedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &timedConn{Conn: c}, nil
}

type timedConn struct {
	net.Conn
	mu        sync.Mutex
	firstData time.Time // when the first bytes were read
	requests  int       // requests the emulator has seen on the connection
}

func (c *timedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		now := time.Now()
		c.mu.Lock()
		if c.firstData.IsZero() {
			c.firstData = now
		}
		c.mu.Unlock()
	}
	return n, err
}

// arrival counts a request on the connection and, for its first request,
// returns when that request's first bytes were read.
func (c *timedConn) arrival() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	return c.firstData, c.requests == 1 && !c.firstData.IsZero()
}

type connKey struct{}

// ConnContext is an http.Server.ConnContext that makes a TimedListener's
// connection known to the emulator's handlers.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*timedConn); ok {
		return context.WithValue(ctx, connKey{}, tc)
	}
	return ctx
}

// arrivedAt is when the request in ctx arrived: the first bytes of its
// connection when it is the connection's first request, else now.
func arrivedAt(ctx context.Context, now time.Time) time.Time {
	tc, ok := ctx.Value(connKey{}).(*timedConn)
	if !ok {
		return now
	}
	if t, ok := tc.arrival(); ok && t.Before(now) {
		return t
	}
	return now
}
