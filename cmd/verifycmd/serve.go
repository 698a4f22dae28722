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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/watch"
	"github.com/fnopt/fnopt/verify"
	"github.com/fnopt/fnopt/verify/httpevent"
	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// DefaultHTTPAddr is where --http listens unless --http-listen says.
const DefaultHTTPAddr = "127.0.0.1:3000"

// Serve runs o.Target with Lambda's Invoke API on o.Listen until the user
// interrupts it, restarting the function when it exits (as Lambda starts a
// fresh environment after a crash). With o.External it starts nothing and
// serves the Runtime API too, for a function the user starts. With o.HTTP
// it also serves plain HTTP, translated into the project's event; with
// o.Watch it rebuilds and restarts the function when its sources change.
func Serve(ctx context.Context, o *Options) error {
	mo, err := o.MeasureOptions()
	if err != nil {
		return cmdutil.UsageError(err)
	}
	kind, err := o.httpKind()
	if err != nil {
		return cmdutil.UsageError(err)
	}
	if o.Watch && o.External {
		return cmdutil.UsageError(errors.New("--watch rebuilds and restarts the function fnopt starts; with --external it starts none"))
	}
	if o.Watch {
		if _, err := verify.ProjectEventSource(o.Target); errors.Is(err, verify.ErrNotProjectTarget) {
			return cmdutil.UsageError(fmt.Errorf("--watch rebuilds a project when its sources change: %w", err))
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return cmdutil.UsageError(fmt.Errorf("--listen %s: %w", o.Listen, err))
	}
	var httpLn net.Listener
	if kind != "" {
		if httpLn, err = listenLoopback(o.HTTPAddr); err != nil {
			ln.Close()
			return cmdutil.UsageError(fmt.Errorf("--http-listen %s: %w", o.HTTPAddr, err))
		}
	}
	invokeURL := "http://" + ln.Addr().String() + runtimeapi.InvokePath("function")
	if o.External {
		return serveExternal(ctx, o, mo, ln, httpLn, kind, invokeURL)
	}

	var watcher *watch.Watcher
	if o.Watch {
		// Watching starts before the first build, so an edit made while
		// it runs is not missed.
		if watcher, err = watch.New(o.Target, 0); err != nil {
			ln.Close()
			closeListener(httpLn)
			return cmdutil.UsageError(err)
		}
		defer watcher.Close()
	}
	t, err := verify.Prepare(ctx, o.Target, o.PrepareOptions())
	if err != nil {
		ln.Close()
		closeListener(httpLn)
		return cmdutil.UsageError(prepareError(err))
	}
	defer func() { t.Close() }()

	var current atomic.Pointer[runtimeapi.Server]
	w := o.IO.ErrOut
	servers := []*http.Server{newServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		runtimeapi.NewInvokeAPI(current.Load()).ServeHTTP(rw, r)
	}), mo.Timeout)}
	if httpLn != nil {
		servers = append(servers, newServer(httpevent.Handler(kind, runtimeapi.DefaultAccountID, invoker(current.Load), w), mo.Timeout))
	}
	defer shutdown(servers)

	var changes <-chan []string
	var watchErrs <-chan error
	if watcher != nil {
		changes, watchErrs = watcher.Changes, watcher.Errors
	}
	quickExits := 0
	var sess *verify.Session
	defer func() {
		if sess != nil {
			_ = sess.Stop()
		}
	}()
	start := func() error {
		next, err := verify.StartSession(ctx, t, verify.SessionOptions{Function: mo.Function, Timeout: mo.Timeout, Output: w})
		if err != nil {
			return cmdutil.FailError(fmt.Errorf("starting %s: %w", t.Name, err))
		}
		// The new copy takes the requests before the old one stops, so
		// that a restart after a rebuild drops none that can wait.
		current.Store(next.Server)
		if sess != nil {
			if err := sess.Stop(); err != nil {
				fmt.Fprintf(w, "fnopt: stopping the previous copy: %v\n", err)
			}
		}
		sess = next
		go reportInit(w, sess, curlData(mo), invokeURL)
		return nil
	}
	if err := start(); err != nil {
		return err
	}
	go func() { _ = servers[0].Serve(ln) }()
	if httpLn != nil {
		go func() { _ = servers[1].Serve(httpLn) }()
		fmt.Fprintf(w, "fnopt: plain HTTP on http://%s/ as %s events; for example:\n  curl http://%s/\n", httpLn.Addr(), kindName(kind), httpLn.Addr())
	}
	if watcher != nil {
		fmt.Fprintf(w, "fnopt: watching %s: a change rebuilds and restarts the function\n", o.Target)
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(w, "fnopt: stopping the function")
			err := sess.Stop()
			sess = nil
			return err
		case err := <-watchErrs:
			fmt.Fprintf(w, "fnopt: watching the sources: %v\n", err)
		case files := <-changes:
			fmt.Fprintf(w, "fnopt: %s changed; rebuilding\n", summarize(files))
			// The event file, template.yaml and fnopt.yaml may be among
			// the changes: the new copy gets them as they are now.
			nmo, err := o.MeasureOptions()
			if err != nil {
				cmdutil.Report(w, err)
				fmt.Fprintln(w, "fnopt: still serving the previous build")
				continue
			}
			nt, err := verify.Prepare(ctx, o.Target, o.PrepareOptions())
			if err != nil {
				if ctx.Err() != nil {
					continue // the interruption is handled above
				}
				cmdutil.Report(w, prepareError(err))
				fmt.Fprintln(w, "fnopt: the build failed; still serving the previous build")
				continue
			}
			old := t
			t, mo = nt, nmo
			quickExits = 0
			if err := start(); err != nil {
				return err
			}
			if err := old.Close(); err != nil {
				fmt.Fprintf(w, "fnopt: removing the previous build: %v\n", err)
			}
		case <-sess.Exited():
			fmt.Fprintf(w, "fnopt: the function exited (%s)\n", sess.ExitText())
			// Lambda starts a fresh environment after a crash; a function
			// that cannot stay up is not restarted for ever.
			if time.Since(sess.Started()) < 2*time.Second {
				quickExits++
			} else {
				quickExits = 1
			}
			if quickExits >= 3 {
				return cmdutil.FailError(errors.New("the function keeps exiting right after it starts; run fnopt verify to see its output"))
			}
			fmt.Fprintln(w, "fnopt: starting a fresh copy")
			if err := start(); err != nil {
				return err
			}
		}
	}
}

// httpKind is the event shape --http translates requests into: the
// project's, from its fnopt.yaml. "" without --http.
func (o *Options) httpKind() (httpevent.Kind, error) {
	if !o.HTTP {
		return "", nil
	}
	event, err := verify.ProjectEventSource(o.Target)
	switch {
	case errors.Is(err, verify.ErrNotProjectTarget):
		return "", fmt.Errorf("--http translates requests into the project's event: %w", err)
	case err != nil:
		return "", err
	case event == "":
		return "", errors.New("--http needs the project's event: set event: http (API Gateway HTTP API) or event: url (function URL) in fnopt.yaml")
	}
	kind, err := httpevent.ParseKind(event)
	if err != nil {
		return "", fmt.Errorf("--http: %w", err)
	}
	return kind, nil
}

func kindName(k httpevent.Kind) string {
	if k == httpevent.FunctionURL {
		return "function URL (payload 2.0)"
	}
	return "API Gateway HTTP API (payload 2.0)"
}

// listenLoopback listens on addr, which must be on loopback: the
// function answers every request, with no authorizer in front of it.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, errors.New("listen on loopback (127.0.0.1, ::1 or localhost): the function would answer anyone who can reach it")
	}
	return net.Listen("tcp", addr)
}

func closeListener(ln net.Listener) {
	if ln != nil {
		ln.Close()
	}
}

// invoker invokes the function served at the moment of each request.
func invoker(current func() *runtimeapi.Server) httpevent.Invoker {
	return func(ctx context.Context, event []byte) ([]byte, error) {
		res, err := current().Invoke(ctx, event)
		if err != nil {
			return nil, err
		}
		if res.Error != nil {
			return nil, res.Error
		}
		return res.Body, nil
	}
}

// newServer is an HTTP server with every timeout set: a request may take
// the function's timeout plus its init.
func newServer(h http.Handler, fnTimeout time.Duration) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      fnTimeout + verify.InitLimit + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// shutdown stops the servers, letting answers under way finish for a
// moment.
func shutdown(servers []*http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			s.Close()
		}
	}
}

// summarize names the changed files, the first few of them.
func summarize(files []string) string {
	if len(files) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(files[:3], ", "), len(files)-3)
	}
	return strings.Join(files, ", ")
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
// the user starts, and the Invoke API (and plain HTTP) to drive it.
func serveExternal(ctx context.Context, o *Options, mo verify.Options, ln, httpLn net.Listener, kind httpevent.Kind, invokeURL string) error {
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "function", MemoryMB: mo.Function.MemoryMB, Timeout: mo.Timeout})
	mux := http.NewServeMux()
	mux.Handle("/2018-06-01/", srv)
	mux.Handle("/2015-03-31/", runtimeapi.NewInvokeAPI(srv))
	// No WriteTimeout on the Runtime API: a function's GET /next waits
	// for an event as long as no one invokes it.
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	servers := []*http.Server{hs}
	go func() { _ = hs.Serve(ln) }()
	fmt.Fprintf(o.IO.ErrOut, "fnopt: Runtime API emulator on %s. Start your function with\n  AWS_LAMBDA_RUNTIME_API=%s ./bootstrap\nthen invoke it with:\n  curl -d %s %s\n",
		ln.Addr(), ln.Addr(), curlData(mo), invokeURL)
	if httpLn != nil {
		hh := newServer(httpevent.Handler(kind, runtimeapi.DefaultAccountID, invoker(func() *runtimeapi.Server { return srv }), o.IO.ErrOut), mo.Timeout)
		servers = append(servers, hh)
		go func() { _ = hh.Serve(httpLn) }()
		fmt.Fprintf(o.IO.ErrOut, "fnopt: plain HTTP on http://%s/ as %s events\n", httpLn.Addr(), kindName(kind))
	}
	<-ctx.Done()
	srv.Close()
	shutdown(servers)
	return nil
}
