package systemtest

// go-nsq discovery through nsqlookupd: consumers that only know the lookupd's HTTP address
// find every nsqd of a small cluster and receive every message exactly once.
// NSQLOOKUPD_BIN selects the nsqlookupd (default <repo>/build/src/nsqlookupd/nsqlookupd).

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	nsq "github.com/nsqio/go-nsq"
)

type lookupd struct {
	TCPAddr, HTTPAddr string
	cmd               *exec.Cmd
}

func nsqlookupdBin(t *testing.T) string {
	if b := os.Getenv("NSQLOOKUPD_BIN"); b != "" {
		abs, _ := filepath.Abs(b)
		return abs
	}
	return filepath.Join(filepath.Dir(filepath.Dir(nsqdBin(t))), "nsqlookupd", "nsqlookupd")
}

func startLookupd(t *testing.T) *lookupd {
	t.Helper()
	l := &lookupd{
		TCPAddr:  fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
	}
	logPath := filepath.Join(t.TempDir(), "nsqlookupd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	l.cmd = exec.Command(nsqlookupdBin(t), "--tcp-address="+l.TCPAddr, "--http-address="+l.HTTPAddr,
		"--broadcast-address=127.0.0.1")
	l.cmd.Stdout, l.cmd.Stderr = logFile, logFile
	if err := l.cmd.Start(); err != nil {
		t.Fatalf("start nsqlookupd: %v", err)
	}
	t.Cleanup(func() {
		l.cmd.Process.Signal(syscall.SIGTERM)
		l.cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range []string{l.TCPAddr, l.HTTPAddr} {
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nsqlookupd %s not accepting: %v", addr, err)
			}
			time.Sleep(25 * time.Millisecond) // poll interval
		}
	}
	return l
}

func lookupTCPPorts(t *testing.T, l *lookupd, topic string) []int {
	resp, err := http.Get("http://" + l.HTTPAddr + "/lookup?topic=" + topic)
	if err != nil {
		t.Fatalf("GET /lookup: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc struct {
		Producers []struct {
			TCPPort int `json:"tcp_port"`
		} `json:"producers"`
	}
	json.Unmarshal(body, &doc)
	var ports []int
	for _, p := range doc.Producers {
		ports = append(ports, p.TCPPort)
	}
	sort.Ints(ports)
	return ports
}

func TestConsumerDiscoversClusterViaLookupd(t *testing.T) {
	l := startLookupd(t)
	topic := uniqueTopic(t)
	var nodes []*Daemon
	var want []int
	for i := 0; i < 3; i++ {
		d := startNSQD(t, "--lookupd-tcp-address="+l.TCPAddr, "--broadcast-address=127.0.0.1")
		ensureChannel(t, d, topic, "ch")
		nodes = append(nodes, d)
		_, port, _ := net.SplitHostPort(d.TCPAddr)
		var p int
		fmt.Sscan(port, &p)
		want = append(want, p)
	}
	sort.Ints(want)
	deadline := time.Now().Add(10 * time.Second)
	for fmt.Sprint(lookupTCPPorts(t, l, topic)) != fmt.Sprint(want) {
		if time.Now().After(deadline) {
			t.Fatalf("lookupd producers %v, want %v", lookupTCPPorts(t, l, topic), want)
		}
		time.Sleep(50 * time.Millisecond) // poll interval
	}

	const perNode = 50
	expected := map[string]bool{}
	for i, d := range nodes {
		p := newProducer(t, d)
		for j := 0; j < perNode; j++ {
			body := fmt.Sprintf("n%d-%d", i, j)
			expected[body] = true
			if err := p.Publish(topic, []byte(body)); err != nil {
				t.Fatalf("publish: %v", err)
			}
		}
	}

	var mu sync.Mutex
	got := map[string]int{}
	done := make(chan struct{})
	cfg := baseConfig()
	cfg.MaxInFlight = 10
	cfg.LookupdPollInterval = time.Second
	c, err := nsq.NewConsumer(topic, "ch", cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetLogger(newTestLogger(t), nsq.LogLevelError)
	c.AddHandler(nsq.HandlerFunc(func(m *nsq.Message) error {
		mu.Lock()
		defer mu.Unlock()
		got[string(m.Body)]++
		if len(got) == len(expected) {
			select {
			case <-done:
			default:
				close(done)
			}
		}
		return nil
	}))
	t.Cleanup(func() { c.Stop(); <-c.StopChan })
	if err := c.ConnectToNSQLookupd(l.HTTPAddr); err != nil {
		t.Fatalf("ConnectToNSQLookupd: %v", err)
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		mu.Lock()
		t.Fatalf("timed out: %d of %d messages", len(got), len(expected))
	}
	time.Sleep(300 * time.Millisecond) // a duplicate would show up now
	mu.Lock()
	defer mu.Unlock()
	for body, n := range got {
		if !expected[body] || n != 1 {
			t.Errorf("message %q delivered %d times (expected: %v)", body, n, expected[body])
		}
	}
	if s := c.Stats(); s.Connections != 3 {
		t.Errorf("consumer connected to %d nsqd, want 3", s.Connections)
	}
}
