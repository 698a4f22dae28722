package newcmd

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/fnopt/fnopt/cmd/cmdutil"
	"github.com/fnopt/fnopt/internal/function/config"
)

// terminal is a pseudo-terminal whose slave side is the command's stdin,
// stdout and stderr; the test types on the master side.
type ptyTerm struct {
	t    *testing.T
	ptmx *os.File
	mu   sync.Mutex
	seen bytes.Buffer
	last time.Time // when output last came
}

func newTerminal(t *testing.T) (*ptyTerm, *cmdutil.IOStreams) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	term := &ptyTerm{t: t, ptmx: ptmx}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			// survey asks the terminal where the cursor is (ESC [6n) and
			// waits for the answer, as a real terminal gives it.
			for range bytes.Count(buf[:n], []byte("\x1b[6n")) {
				ptmx.Write([]byte("\x1b[1;1R"))
			}
			term.mu.Lock()
			term.seen.Write(buf[:n])
			term.last = time.Now()
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		tty.Close()
		ptmx.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the pseudo-terminal reader did not stop")
		}
	})
	io := &cmdutil.IOStreams{In: tty, Out: tty, ErrOut: tty}
	io.SetTTY(true, true, true)
	return term, io
}

// expect waits until the screen output contains s (after what earlier
// expects consumed).
func (term *ptyTerm) expect(s string) {
	term.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		i := strings.Index(term.seen.String(), s)
		if i >= 0 {
			rest := term.seen.String()[i+len(s):]
			term.seen.Reset()
			term.seen.WriteString(rest)
		}
		term.mu.Unlock()
		if i >= 0 {
			term.settle()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	term.t.Fatalf("timed out waiting for %q; screen:\n%q", s, term.seen.String())
}

// settle waits until the screen has been quiet for a moment: the prompt is
// drawn and survey waits for keys, not for a cursor position report.
func (term *ptyTerm) settle() {
	for {
		term.mu.Lock()
		quiet := time.Since(term.last)
		term.mu.Unlock()
		if quiet > 150*time.Millisecond {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (term *ptyTerm) send(keys string) {
	term.t.Helper()
	if _, err := term.ptmx.Write([]byte(keys)); err != nil {
		term.t.Fatal(err)
	}
}

const (
	down  = "\x1b[B"
	enter = "\r"
)

func TestInteractiveFlowThroughPTY(t *testing.T) {
	t.Chdir(t.TempDir())
	term, io := newTerminal(t)
	code := make(chan int, 1)
	go func() { code <- execute(t, io, nil) }()

	term.expect("Function name:")
	term.send("ptyfn" + enter)
	term.expect("Language:")
	term.send("?") // the one-line help
	term.expect("smallest, fastest-starting")
	term.send(enter) // go, the default
	term.expect("Event source:")
	term.send(down + down + enter) // url
	term.expect("Architecture:")
	term.send(down + enter) // x86_64
	term.expect("Packaging:")
	term.send(enter) // zip
	term.expect("Runtime client:")
	term.send(down + enter) // minimal
	term.expect("Go module path:")
	term.expect("(ptyfn)") // --module's default, the name
	term.send(enter)
	term.expect("Created ptyfn in ptyfn")

	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit status %d", c)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("fnopt new did not finish")
	}
	cfg, err := config.Load("ptyfn")
	if err != nil {
		t.Fatal(err)
	}
	got := *cfg
	got.Budgets = config.Budgets{}
	if want := (config.Config{Name: "ptyfn", Language: "go", Event: "url", Arch: "x86_64", Package: "zip", Client: "minimal"}); !reflect.DeepEqual(got, want) {
		t.Errorf("fnopt.yaml: %+v, want %+v", got, want)
	}
}

func TestInterruptAtAQuestion(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	term, io := newTerminal(t)
	code := make(chan int, 1)
	go func() { code <- execute(t, io, nil, "later") }()
	term.expect("Function name:")
	term.send(enter)
	term.expect("Language:")
	term.send("\x03") // Ctrl-C
	term.expect("cancelled: nothing was written")
	select {
	case c := <-code:
		if c != cmdutil.ExitUsage {
			t.Errorf("exit status %d, want 2", c)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("fnopt new did not stop")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
