// crashloop: go-nsq publishers and consumers run against an nsqd that is SIGKILLed at random
// points while publishing and restarted on the same data directory and ports, for a number of
// cycles; then the last nsqd is left running until the consumers have drained it. Prints one
// JSON line: messages acknowledged to publishers, delivered, lost (acknowledged, never
// delivered), duplicates, corrupt bodies, restarts that failed, and what was still queued when
// the drain gave up (left_in_queue: lost counts those too, so a figure is only final at 0).
//
// Parametrised by the nsqd binary and its flags, so any mode can reuse it:
//
//	go run ./crashloop -nsqd=build/src/nsqd/nsqd -flags="--mem-queue-size=0 --sync-every=1" -cycles=10
//
// Used by tests/system/python/test_crash_loop.py (short) and bench/crash_loop.sh (long, side by
// side with the reference).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	nsq "github.com/nsqio/go-nsq"
)

type options struct {
	nsqd       string
	flags      string
	cycles     int
	publishers int
	consumers  int
	minUp      time.Duration
	maxUp      time.Duration
	drain      time.Duration
	pubPause   time.Duration
	seed       int64
	dataDir    string
}

type summary struct {
	Nsqd              string  `json:"nsqd"`
	Flags             string  `json:"flags"`
	Cycles            int     `json:"cycles"`
	Acked             int     `json:"acked"`
	PublishErrors     int64   `json:"publish_errors"`
	Delivered         int64   `json:"delivered"`
	DeliveredDistinct int     `json:"delivered_distinct"`
	Lost              int     `json:"lost"`
	Duplicates        int64   `json:"duplicates"`
	Corrupt           int64   `json:"corrupt"`
	UnackedDelivered  int     `json:"unacked_delivered"`
	RestartFailures   int     `json:"restart_failures"`
	LeftInQueue       int64   `json:"left_in_queue"`
	ConsumerRestarts  int     `json:"consumer_restarts"`
	Seconds           float64 `json:"seconds"`
}

// body: "<publisher>.<seq>.<16 hex of sha256(publisher.seq)>" + filler; checked on delivery.
func makeBody(pub, seq int) []byte {
	key := fmt.Sprintf("%d.%d", pub, seq)
	sum := sha256.Sum256([]byte(key))
	fill := strings.Repeat(string(rune('a'+seq%26)), 40+seq%200)
	return []byte(key + "." + hex.EncodeToString(sum[:8]) + "." + fill)
}

func checkBody(b []byte) (string, bool) {
	parts := strings.SplitN(string(b), ".", 4)
	if len(parts) != 4 {
		return "", false
	}
	key := parts[0] + "." + parts[1]
	var pub, seq int
	if _, err := fmt.Sscanf(key, "%d.%d", &pub, &seq); err != nil {
		return "", false
	}
	return key, string(makeBody(pub, seq)) == string(b)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type server struct {
	opts     options
	tcpAddr  string
	httpAddr string
	logFile  *os.File
	cmd      *exec.Cmd
	exited   chan struct{} // closed once the current process has been reaped
}

// start runs nsqd and waits until its TCP and HTTP ports answer (15 s at most).
func (s *server) start() error {
	args := []string{"--tcp-address=" + s.tcpAddr, "--http-address=" + s.httpAddr,
		"--data-path=" + s.opts.dataDir}
	args = append(args, strings.Fields(s.opts.flags)...)
	s.cmd = exec.Command(s.opts.nsqd, args...)
	s.cmd.Stdout = s.logFile
	s.cmd.Stderr = s.logFile
	// If this harness dies, so does its nsqd.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(s.cmd, s.exited)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("nsqd exited during startup")
		default:
		}
		c1, e1 := net.DialTimeout("tcp", s.tcpAddr, 200*time.Millisecond)
		c2, e2 := net.DialTimeout("tcp", s.httpAddr, 200*time.Millisecond)
		if c1 != nil {
			c1.Close()
		}
		if c2 != nil {
			c2.Close()
		}
		if e1 == nil && e2 == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond) // polling the port, not synchronisation
	}
	s.kill()
	return errors.New("nsqd did not listen within 15s")
}

func (s *server) signalAndWait(sig syscall.Signal, limit time.Duration) bool {
	if s.cmd == nil || s.cmd.Process == nil {
		return true
	}
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
		return true
	case <-time.After(limit):
		return false
	}
}

func (s *server) kill() { s.signalAndWait(syscall.SIGKILL, 10*time.Second) }

func (s *server) stop() {
	if !s.signalAndWait(syscall.SIGTERM, 10*time.Second) {
		s.kill()
	}
}

func createChannel(httpAddr, topic, channel string) error {
	for _, path := range []string{"/topic/create?topic=" + topic,
		"/channel/create?topic=" + topic + "&channel=" + channel} {
		resp, err := http.Post("http://"+httpAddr+path, "", nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
	return nil
}

// The channel's depth from /stats (-1 if unknown).
func channelDepth(httpAddr, topic, channel string) int64 {
	resp, err := http.Get("http://" + httpAddr + "/stats?format=json&topic=" + topic)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var stats struct {
		Topics []struct {
			Name     string `json:"topic_name"`
			Channels []struct {
				Name  string `json:"channel_name"`
				Depth int64  `json:"depth"`
			} `json:"channels"`
		} `json:"topics"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil {
		return -1
	}
	for _, t := range stats.Topics {
		for _, c := range t.Channels {
			if t.Name == topic && c.Name == channel {
				return c.Depth
			}
		}
	}
	return -1
}

func run(o options) summary {
	begin := time.Now()
	rng := rand.New(rand.NewSource(o.seed))
	logFile, err := os.Create(filepath.Join(o.dataDir, "..", "nsqd.log"))
	if err != nil {
		log.Fatal(err)
	}
	defer logFile.Close()
	s := &server{opts: o, logFile: logFile,
		tcpAddr:  fmt.Sprintf("127.0.0.1:%d", freePort()),
		httpAddr: fmt.Sprintf("127.0.0.1:%d", freePort())}
	sum := summary{Nsqd: o.nsqd, Flags: o.flags, Cycles: o.cycles}
	if err := s.start(); err != nil {
		log.Fatalf("first start: %v", err)
	}
	defer s.kill() // on every way out, also log.Fatal's (Pdeathsig)
	const topic, channel = "crash", "loop"
	if err := createChannel(s.httpAddr, topic, channel); err != nil {
		s.kill()
		log.Fatalf("create channel: %v", err)
	}

	quiet := log.New(io.Discard, "", 0)
	cfg := nsq.NewConfig()
	cfg.LookupdPollInterval = 100 * time.Millisecond // the reconnect delay without lookupd
	cfg.MaxInFlight = 200
	cfg.DialTimeout = time.Second
	cfg.MaxAttempts = 0 // never give up on a message

	var mu sync.Mutex
	acked := map[string]bool{}
	deliveredCount := map[string]int{}
	var delivered, duplicates, corrupt, publishErrors int64

	handler := nsq.HandlerFunc(func(m *nsq.Message) error {
		atomic.AddInt64(&delivered, 1)
		key, ok := checkBody(m.Body)
		if !ok {
			atomic.AddInt64(&corrupt, 1)
			return nil
		}
		mu.Lock()
		deliveredCount[key]++
		if deliveredCount[key] > 1 {
			duplicates++
		}
		mu.Unlock()
		return nil
	})
	newConsumers := func() []*nsq.Consumer {
		var cs []*nsq.Consumer
		for i := 0; i < o.consumers; i++ {
			c, err := nsq.NewConsumer(topic, channel, cfg)
			if err != nil {
				s.kill()
				log.Fatal(err)
			}
			c.SetLogger(quiet, nsq.LogLevelError)
			c.AddHandler(handler)
			if err := c.ConnectToNSQD(s.tcpAddr); err != nil {
				s.kill()
				log.Fatal(err)
			}
			cs = append(cs, c)
		}
		return cs
	}
	stopConsumers := func(cs []*nsq.Consumer) {
		for _, c := range cs {
			c.Stop()
			select {
			case <-c.StopChan:
			case <-time.After(5 * time.Second):
			}
		}
	}
	consumers := newConsumers()

	var stopPub int32
	var wg sync.WaitGroup
	for p := 0; p < o.publishers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			prod, err := nsq.NewProducer(s.tcpAddr, cfg)
			if err != nil {
				log.Fatal(err)
			}
			prod.SetLogger(quiet, nsq.LogLevelError)
			defer prod.Stop()
			for seq := 0; atomic.LoadInt32(&stopPub) == 0; {
				// Every 4th publish is an MPUB of 5.
				var bodies [][]byte
				n := 1
				if seq%4 == 3 {
					n = 5
				}
				for i := 0; i < n; i++ {
					bodies = append(bodies, makeBody(p, seq+i))
				}
				if n == 1 {
					err = prod.Publish(topic, bodies[0])
				} else {
					err = prod.MultiPublish(topic, bodies)
				}
				if err == nil {
					mu.Lock()
					for i := 0; i < n; i++ {
						acked[fmt.Sprintf("%d.%d", p, seq+i)] = true
					}
					mu.Unlock()
				} else {
					atomic.AddInt64(&publishErrors, 1)
					time.Sleep(20 * time.Millisecond) // nsqd is down: retry later
				}
				seq += n
				if o.pubPause > 0 {
					time.Sleep(o.pubPause) // a bounded rate, so the drain at the end stays short
				}
			}
		}(p)
	}

	for cycle := 0; cycle < o.cycles; cycle++ {
		up := o.minUp + time.Duration(rng.Int63n(int64(o.maxUp-o.minUp)+1))
		time.Sleep(up)
		s.kill()
		time.Sleep(time.Duration(rng.Intn(100)) * time.Millisecond)
		restarted := false
		for attempt := 0; attempt < 3 && !restarted; attempt++ {
			if err := s.start(); err != nil {
				sum.RestartFailures++
				fmt.Fprintf(os.Stderr, "cycle %d: restart failed: %v\n", cycle, err)
				continue
			}
			restarted = true
		}
		if !restarted {
			break
		}
	}
	atomic.StoreInt32(&stopPub, 1)
	wg.Wait()

	// Drain: until every acknowledged message arrived, or nothing new for 5 s (o.drain at most).
	deadline := time.Now().Add(o.drain)
	last, lastChange := int64(-1), time.Now()
	for time.Now().Before(deadline) {
		mu.Lock()
		missing := 0
		for k := range acked {
			if deliveredCount[k] == 0 {
				missing++
			}
		}
		mu.Unlock()
		if missing == 0 {
			break
		}
		if d := atomic.LoadInt64(&delivered); d != last {
			last, lastChange = d, time.Now()
		} else if time.Since(lastChange) > 5*time.Second {
			break
		} else if time.Since(lastChange) > 2*time.Second && sum.ConsumerRestarts < 3 {
			// go-nsq can keep a connection that died while it was subscribing and never
			// reconnect (a client race the fast restarts here hit): start fresh consumers.
			stopConsumers(consumers)
			consumers = newConsumers()
			sum.ConsumerRestarts++
			lastChange = time.Now()
		}
		time.Sleep(50 * time.Millisecond) // polling progress
	}
	stopConsumers(consumers)
	// What is still queued was not lost, only not drained in time: say so apart.
	sum.LeftInQueue = channelDepth(s.httpAddr, topic, channel)
	s.stop()

	mu.Lock()
	defer mu.Unlock()
	sum.Acked = len(acked)
	for k := range acked {
		if deliveredCount[k] == 0 {
			sum.Lost++
		}
	}
	for k := range deliveredCount {
		if !acked[k] {
			sum.UnackedDelivered++
		}
	}
	sum.DeliveredDistinct = len(deliveredCount)
	sum.Delivered = atomic.LoadInt64(&delivered)
	sum.Duplicates = duplicates
	sum.Corrupt = atomic.LoadInt64(&corrupt)
	sum.PublishErrors = atomic.LoadInt64(&publishErrors)
	sum.Seconds = time.Since(begin).Seconds()
	return sum
}

func main() {
	var o options
	flag.StringVar(&o.nsqd, "nsqd", "", "nsqd binary (ours or the reference)")
	flag.StringVar(&o.flags, "flags", "", "extra nsqd flags, space separated")
	flag.IntVar(&o.cycles, "cycles", 10, "kill -9 / restart cycles")
	flag.IntVar(&o.publishers, "publishers", 4, "publishing connections")
	flag.IntVar(&o.consumers, "consumers", 2, "consumers on the channel")
	flag.DurationVar(&o.minUp, "min-up", 300*time.Millisecond, "shortest time nsqd runs before a kill")
	flag.DurationVar(&o.maxUp, "max-up", 1200*time.Millisecond, "longest time nsqd runs before a kill")
	flag.DurationVar(&o.drain, "drain", 120*time.Second, "longest wait for the consumers at the end")
	flag.DurationVar(&o.pubPause, "pub-pause", 0, "pause after each publish (0: as fast as acknowledged)")
	flag.Int64Var(&o.seed, "seed", time.Now().UnixNano(), "random seed (kill times)")
	workDir := flag.String("work-dir", "", "scratch directory (default: a new temporary one)")
	flag.Parse()
	if o.nsqd == "" {
		log.Fatal("-nsqd is required")
	}
	if abs, err := filepath.Abs(o.nsqd); err == nil {
		o.nsqd = abs
	}
	dir := *workDir
	if dir == "" {
		d, err := os.MkdirTemp("", "crashloop-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	o.dataDir = filepath.Join(dir, "data")
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		log.Fatal(err)
	}
	out, _ := json.Marshal(run(o))
	fmt.Println(string(out))
}
