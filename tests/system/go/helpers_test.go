package systemtest

// Helpers shared by the system tests: starting an nsqd binary, building
// go-nsq producers/consumers bound to it, and waiting on events with
// deadlines (no sleeps as synchronisation).

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	nsq "github.com/nsqio/go-nsq"
)

// nsqdBin returns the daemon under test: $NSQD_BIN, or the C++ build output
// <repo>/build/src/nsqd/nsqd, where <repo> is the repository root two
// directories above tests/system (this file lives in tests/system/go).
func nsqdBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("NSQD_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatalf("NSQD_BIN: %v", err)
		}
		return abs
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate test source directory")
	}
	// file = <repo>/tests/system/go/helpers_test.go
	repo := filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
	return filepath.Join(repo, "build", "src", "nsqd", "nsqd")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Daemon is a running nsqd process.
type Daemon struct {
	TCPAddr  string
	HTTPAddr string
	DataPath string
	cmd      *exec.Cmd
	exited   chan struct{}
	logPath  string
}

// startNSQD launches the daemon with fresh ports and data dir, waits until
// its TCP port accepts connections, and registers a cleanup that stops it
// (SIGTERM, then SIGKILL after a grace period). Extra flags are appended.
func startNSQD(t *testing.T, extra ...string) *Daemon {
	t.Helper()
	return startNSQDBin(t, nsqdBin(t), extra...)
}

// startNSQDBin is startNSQD for a given binary (tests comparing ours with the reference).
// A port taken between freePort and nsqd's bind (any process's outgoing connection can get it
// as its local port) makes nsqd exit at start-up: that is retried with new ports.
func startNSQDBin(t *testing.T, bin string, extra ...string) *Daemon {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("nsqd binary %q: %v (set NSQD_BIN)", bin, err)
	}
	for attempt := 1; ; attempt++ {
		d, err := tryStartNSQD(t, bin, extra...)
		if err == nil {
			return d
		}
		if attempt == 3 {
			t.Fatalf("%v", err)
		}
	}
}

// tryStartNSQD starts one nsqd and waits until both its TCP and HTTP ports accept
// connections (it listens on TCP before it binds HTTP); an error if it exits first.
func tryStartNSQD(t *testing.T, bin string, extra ...string) (*Daemon, error) {
	t.Helper()
	dataPath := t.TempDir()
	logDir := t.TempDir()
	d := &Daemon{
		TCPAddr:  fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		DataPath: dataPath,
		exited:   make(chan struct{}),
		logPath:  filepath.Join(logDir, "nsqd.log"),
	}
	args := append([]string{
		"--tcp-address=" + d.TCPAddr,
		"--http-address=" + d.HTTPAddr,
		"--data-path=" + dataPath,
	}, extra...)
	logFile, err := os.Create(d.logPath)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout = logFile
	d.cmd.Stderr = logFile
	if err := d.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		d.cmd.Wait()
		logFile.Close()
		close(d.exited)
	}()
	// Registered after t.TempDir, so it runs before the directories are removed.
	t.Cleanup(func() { d.stop(t) })

	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range []string{d.TCPAddr, d.HTTPAddr} {
		for {
			select {
			case <-d.exited:
				return nil, fmt.Errorf("nsqd exited during start-up (%v); log:\n%s", d.cmd.ProcessState, d.log())
			default:
			}
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nsqd port %s not accepting after 10s: %v; log:\n%s", addr, err, d.log())
			}
			select {
			case <-d.exited:
			case <-time.After(25 * time.Millisecond): // poll interval, not synchronisation
			}
		}
	}
	return d, nil
}

func (d *Daemon) log() string {
	b, _ := os.ReadFile(d.logPath)
	const max = 8000
	if len(b) > max {
		b = append([]byte("...\n"), b[len(b)-max:]...)
	}
	return string(b)
}

func (d *Daemon) stop(t *testing.T) {
	select {
	case <-d.exited:
		if !t.Failed() {
			t.Errorf("nsqd exited before the end of the test (%v); log:\n%s", d.cmd.ProcessState, d.log())
		}
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(5 * time.Second):
		t.Logf("nsqd did not exit 5s after SIGTERM, sending SIGKILL")
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
	if t.Failed() {
		t.Logf("nsqd log:\n%s", d.log())
	}
}

// testLogger forwards go-nsq log lines to t.Log while the test runs and
// drops them afterwards (go-nsq goroutines may log after the test returned).
type testLogger struct {
	mu   sync.Mutex
	t    *testing.T
	done bool
}

func newTestLogger(t *testing.T) *log.Logger {
	tl := &testLogger{t: t}
	t.Cleanup(func() { tl.mu.Lock(); tl.done = true; tl.mu.Unlock() })
	return log.New(tl, "", log.Lmicroseconds)
}

func (l *testLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func newProducer(t *testing.T, d *Daemon) *nsq.Producer {
	t.Helper()
	p, err := nsq.NewProducer(d.TCPAddr, nsq.NewConfig())
	if err != nil {
		t.Fatalf("NewProducer: %v", err)
	}
	p.SetLogger(newTestLogger(t), nsq.LogLevelError)
	t.Cleanup(p.Stop)
	if err := p.Ping(); err != nil {
		t.Fatalf("producer Ping (connect+IDENTIFY): %v", err)
	}
	return p
}

// baseConfig: a consumer config without client-side backoff, so a requeue
// does not pause the consumer.
func baseConfig() *nsq.Config {
	cfg := nsq.NewConfig()
	cfg.MaxBackoffDuration = 0
	cfg.DefaultRequeueDelay = 0
	return cfg
}

// startConsumer subscribes a go-nsq consumer with handler h and connects it
// directly to the daemon. It is stopped in cleanup (before the daemon).
func startConsumer(t *testing.T, d *Daemon, topic, channel string, cfg *nsq.Config, h nsq.Handler) *nsq.Consumer {
	t.Helper()
	if cfg == nil {
		cfg = baseConfig()
	}
	c, err := nsq.NewConsumer(topic, channel, cfg)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	c.SetLogger(newTestLogger(t), nsq.LogLevelError)
	c.AddHandler(h)
	t.Cleanup(func() {
		c.Stop()
		select {
		case <-c.StopChan:
		case <-time.After(5 * time.Second):
			t.Logf("consumer %s/%s did not stop within 5s", topic, channel)
		}
	})
	if err := c.ConnectToNSQD(d.TCPAddr); err != nil {
		t.Fatalf("ConnectToNSQD: %v", err)
	}
	return c
}

// ensureChannel creates topic/channel on the daemon with a raw V2 SUB and
// waits for its OK, so later publishes are copied into that channel no
// matter when a go-nsq consumer's own (unacknowledged) SUB is processed.
func ensureChannel(t *testing.T, d *Daemon, topic, channel string) {
	t.Helper()
	rc := dialRaw(t, d)
	defer rc.Close()
	rc.send(t, "SUB %s %s\n", topic, channel)
	rc.expectOK(t, "SUB")
}

// waitTimersActive creates topic/channel (like ensureChannel) and then
// waits until a deferred message published into it comes out.
//
// Why: the reference nsqd handles deferred and timed-out in-flight messages
// in a scanner that works on a cached list of channels refreshed only every
// 5 s (the reference's queueScanLoop). A channel created after the last refresh is not
// scanned until the next one, so on a freshly started reference daemon no
// DPUB/REQ-with-delay/msg-timeout fires during its first ~5 s. Waiting for
// a canary makes the timing assertions that follow exact on any server; a
// server with precise timers passes the canary at once.
//
// Call it before any consumer subscribes to the channel (it consumes the
// canary itself).
func waitTimersActive(t *testing.T, d *Daemon, topic, channel string) {
	t.Helper()
	start := time.Now()
	rc := dialRaw(t, d)
	defer rc.Close()
	rc.conn.SetDeadline(time.Now().Add(10 * time.Second))
	rc.send(t, "SUB %s %s\n", topic, channel)
	rc.expectOK(t, "SUB")
	rc.what = "a 1ms-deferred canary message (DPUB) on a fresh channel, 10s deadline"
	rc.send(t, "RDY 1\n")
	const canary = "__timer_canary__"
	if _, err := fmt.Fprintf(rc.w, "DPUB %s 1\n", topic); err != nil {
		t.Fatalf("canary DPUB: %v", err)
	}
	binary.Write(rc.w, binary.BigEndian, int32(len(canary)))
	rc.w.WriteString(canary)
	if err := rc.w.Flush(); err != nil {
		t.Fatalf("canary DPUB: %v", err)
	}
	gotOK := false
	for {
		ftype, data := rc.readFrame(t)
		switch {
		case ftype == 0 && string(data) == "OK":
			gotOK = true
		case ftype == 2 && len(data) >= 26 && string(data[26:]) == canary:
			if !gotOK {
				t.Fatalf("canary delivered before the DPUB OK")
			}
			rc.send(t, "FIN %s\n", data[10:26])
			t.Logf("deferred-message timers active after %v", time.Since(start).Round(time.Millisecond))
			return
		default:
			t.Fatalf("waitTimersActive: unexpected frame type %d %q", ftype, data)
		}
	}
}

type rawConn struct {
	what string // what the connection is waiting for, for error messages
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

func dialRaw(t *testing.T, d *Daemon) *rawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", d.TCPAddr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", d.TCPAddr, err)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	rc := &rawConn{what: "a reply", conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}
	rc.send(t, "  V2")
	return rc
}

func (rc *rawConn) Close() error { return rc.conn.Close() }

func (rc *rawConn) send(t *testing.T, format string, args ...interface{}) {
	t.Helper()
	fmt.Fprintf(rc.w, format, args...)
	if err := rc.w.Flush(); err != nil {
		t.Fatalf("raw write: %v", err)
	}
}

// readFrame returns the next frame that is not a heartbeat.
func (rc *rawConn) readFrame(t *testing.T) (uint32, []byte) {
	t.Helper()
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(rc.r, hdr[:]); err != nil {
			t.Fatalf("raw read (waiting for %s): %v", rc.what, err)
		}
		size := binary.BigEndian.Uint32(hdr[:4])
		ftype := binary.BigEndian.Uint32(hdr[4:])
		if size < 4 || size > 1<<20 {
			t.Fatalf("raw read: bad frame size %d", size)
		}
		data := make([]byte, size-4)
		if _, err := io.ReadFull(rc.r, data); err != nil {
			t.Fatalf("raw read: %v", err)
		}
		if ftype == 0 && bytes.Equal(data, []byte("_heartbeat_")) {
			rc.send(t, "NOP\n")
			continue
		}
		return ftype, data
	}
}

func (rc *rawConn) expectOK(t *testing.T, what string) {
	t.Helper()
	ftype, data := rc.readFrame(t)
	if ftype != 0 || string(data) != "OK" {
		t.Fatalf("%s answered frame type %d %q, want OK", what, ftype, data)
	}
}

// uniqueTopic gives each test its own topic name.
func uniqueTopic(t *testing.T) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("%s_%d", name, time.Now().UnixNano()%1000000)
}

// delivery is one message seen by a handler.
type delivery struct {
	msg *nsq.Message
	at  time.Time
}

// chanHandler pushes every message into a buffered channel and leaves the
// response to the test (used with DisableAutoResponse) or lets go-nsq FIN it.
func chanHandler(ch chan<- delivery) nsq.HandlerFunc {
	return func(m *nsq.Message) error {
		ch <- delivery{msg: m, at: time.Now()}
		return nil
	}
}

func waitDelivery(t *testing.T, ch <-chan delivery, timeout time.Duration, what string) delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
	return delivery{}
}

// expectNone asserts that nothing arrives on ch within window.
func expectNone(t *testing.T, ch <-chan delivery, window time.Duration, what string) {
	t.Helper()
	select {
	case d := <-ch:
		t.Fatalf("unexpected delivery (%s): body=%q attempts=%d", what, d.msg.Body, d.msg.Attempts)
	case <-time.After(window):
	}
}

// counter collects message bodies and signals when a target count is reached.
type counter struct {
	mu     sync.Mutex
	seen   map[string]int
	total  int
	target int
	done   chan struct{}
}

func newCounter(target int) *counter {
	return &counter{seen: map[string]int{}, target: target, done: make(chan struct{})}
}

func (c *counter) HandleMessage(m *nsq.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[string(m.Body)]++
	c.total++
	if c.total == c.target {
		close(c.done)
	}
	return nil
}

func (c *counter) snapshot() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := make(map[string]int, len(c.seen))
	for k, v := range c.seen {
		cp[k] = v
	}
	return cp, c.total
}

func (c *counter) wait(t *testing.T, timeout time.Duration, what string) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		_, n := c.snapshot()
		t.Fatalf("%s: got %d of %d messages within %v", what, n, c.target, timeout)
	}
}

func bodies(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("%s-%05d", prefix, i))
	}
	return out
}

// assertExactlyOnce checks seen holds every body exactly once and nothing else.
func assertExactlyOnce(t *testing.T, seen map[string]int, want [][]byte) {
	t.Helper()
	wantSet := make(map[string]bool, len(want))
	for _, b := range want {
		wantSet[string(b)] = true
		if n := seen[string(b)]; n != 1 {
			t.Errorf("body %q delivered %d times, want 1", b, n)
		}
	}
	for k, n := range seen {
		if !wantSet[k] {
			t.Errorf("unexpected body %q delivered %d times", k, n)
		}
	}
}
