package verifycmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// Serve runs o.Target with Lambda's Invoke API on o.Listen until the user
// interrupts it, restarting the function when it exits (as Lambda starts a
// fresh environment after a crash). With o.External it starts nothing and
// serves the Runtime API too, for a function the user starts.
func Serve(ctx context.Context, o *Options) error {
	mo, err := o.MeasureOptions()
	if err != nil {
		return cmdutil.UsageError(err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return cmdutil.UsageError(fmt.Errorf("--listen %s: %w", o.Listen, err))
	}
	invokeURL := "http://" + ln.Addr().String() + runtimeapi.InvokePath("function")
	if o.External {
		return serveExternal(ctx, o, mo, ln, invokeURL)
	}

	t, err := verify.Prepare(ctx, o.Target, o.PrepareOptions())
	if err != nil {
		ln.Close()
		return cmdutil.UsageError(prepareError(err))
	}
	defer t.Close()
	var current atomic.Pointer[runtimeapi.Server]
	hs := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runtimeapi.NewInvokeAPI(current.Load()).ServeHTTP(w, r)
		}),
	}
	defer hs.Close()

	w := o.IO.ErrOut
	quickExits := 0
	go func() { _ = hs.Serve(ln) }()
	for {
		sess, err := verify.StartSession(ctx, t, verify.SessionOptions{Function: mo.Function, Timeout: mo.Timeout, Output: w})
		if err != nil {
			return cmdutil.FailError(fmt.Errorf("starting %s: %w", t.Name, err))
		}
		current.Store(sess.Server)
		go reportInit(w, sess, curlData(mo), invokeURL)
		select {
		case <-ctx.Done():
			fmt.Fprintln(w, "fnopt: stopping the function")
			return sess.Stop()
		case <-sess.Exited():
		}
		fmt.Fprintf(w, "fnopt: the function exited (%s)\n", sess.ExitText())
		if err := sess.Stop(); err != nil {
			return cmdutil.UsageError(err)
		}
		// Lambda starts a fresh environment after a crash; a function that
		// cannot stay up is not restarted for ever.
		if time.Since(sess.Started()) < 2*time.Second {
			quickExits++
		} else {
			quickExits = 1
		}
		if quickExits >= 3 {
			return cmdutil.FailError(errors.New("the function keeps exiting right after it starts; run fnopt verify to see its output"))
		}
		fmt.Fprintln(w, "fnopt: starting a fresh copy")
	}
}

// curlData is curl's -d argument that sends the event verify would send:
// the project's event file, or the default event.
func curlData(mo verify.Options) string {
	if mo.EventFile != "" {
		return "@" + mo.EventFile
	}
	return "'" + verify.DefaultEvent + "'"
}

func reportInit(w io.Writer, sess *verify.Session, data, invokeURL string) {
	at, err := sess.Server.WaitNext(sess.Context())
	if err != nil {
		if ie := sess.Server.InitError(); ie != nil {
			fmt.Fprintf(w, "fnopt: init failed: %s\n", ie)
		}
		return
	}
	fmt.Fprintf(w, "fnopt: function ready (init %.2f ms); invoke it with:\n  curl -d %s %s\n",
		float64(at.Sub(sess.Started()))/float64(time.Millisecond), data, invokeURL)
}

// serveExternal serves the emulator alone: the Runtime API for a function
// the user starts, and the Invoke API to drive it.
func serveExternal(ctx context.Context, o *Options, mo verify.Options, ln net.Listener, invokeURL string) error {
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "function", MemoryMB: mo.Function.MemoryMB, Timeout: mo.Timeout})
	mux := http.NewServeMux()
	mux.Handle("/2018-06-01/", srv)
	mux.Handle("/2015-03-31/", runtimeapi.NewInvokeAPI(srv))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	fmt.Fprintf(o.IO.ErrOut, "fnopt: Runtime API emulator on %s. Start your function with\n  AWS_LAMBDA_RUNTIME_API=%s ./bootstrap\nthen invoke it with:\n  curl -d '{\"hello\":\"world\"}' %s\n",
		ln.Addr(), ln.Addr(), invokeURL)
	<-ctx.Done()
	srv.Close()
	return hs.Close()
}
