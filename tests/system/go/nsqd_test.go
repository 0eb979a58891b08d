package systemtest

// System tests of nsqd through the real go-nsq v1.1.0 client
// (Producer/Consumer with ConnectToNSQD, no nsqlookupd).

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	nsq "github.com/nsqio/go-nsq"
)

func TestPublishConsumeExactCount(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	p := newProducer(t, d)

	const n = 200
	want := bodies("pub", n)
	for _, b := range want {
		if err := p.Publish(topic, b); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}

	cnt := newCounter(n)
	startConsumer(t, d, topic, "ch", nil, cnt)
	cnt.wait(t, 10*time.Second, "consume")
	expectNoMoreCounted(t, 300*time.Millisecond, cnt)
	seen, _ := cnt.snapshot()
	assertExactlyOnce(t, seen, want)
}

func TestPublishWhileSubscribed(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	ensureChannel(t, d, topic, "ch")
	cfg := baseConfig()
	cfg.MaxInFlight = 16
	cnt := newCounter(100)
	startConsumer(t, d, topic, "ch", cfg, cnt)

	p := newProducer(t, d)
	want := bodies("live", 100)
	for _, b := range want {
		if err := p.Publish(topic, b); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	cnt.wait(t, 10*time.Second, "consume")
	expectNoMoreCounted(t, 300*time.Millisecond, cnt)
	seen, _ := cnt.snapshot()
	assertExactlyOnce(t, seen, want)
}

func TestMultiPublishBatches(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	p := newProducer(t, d)

	const batches, per = 10, 50
	var want [][]byte
	for i := 0; i < batches; i++ {
		batch := bodies("mpub-"+string(rune('a'+i)), per)
		if err := p.MultiPublish(topic, batch); err != nil {
			t.Fatalf("MultiPublish batch %d: %v", i, err)
		}
		want = append(want, batch...)
	}
	// a batch of one message is a valid MPUB too
	one := [][]byte{[]byte("mpub-single")}
	if err := p.MultiPublish(topic, one); err != nil {
		t.Fatalf("MultiPublish single: %v", err)
	}
	want = append(want, one...)

	cfg := baseConfig()
	cfg.MaxInFlight = 50
	cnt := newCounter(len(want))
	startConsumer(t, d, topic, "ch", cfg, cnt)
	cnt.wait(t, 10*time.Second, "consume MPUB")
	expectNoMoreCounted(t, 300*time.Millisecond, cnt)
	seen, _ := cnt.snapshot()
	assertExactlyOnce(t, seen, want)
}

func TestMultiPublishOrderSingleConsumer(t *testing.T) {
	// One MPUB into a fresh channel with a single consumer at RDY 1: the
	// messages come out in publish order (memory queue is FIFO).
	d := startNSQD(t)
	topic := uniqueTopic(t)
	ensureChannel(t, d, topic, "ch")
	p := newProducer(t, d)
	want := bodies("ordered", 30)
	if err := p.MultiPublish(topic, want); err != nil {
		t.Fatalf("MultiPublish: %v", err)
	}
	ch := make(chan delivery, len(want))
	startConsumer(t, d, topic, "ch", nil, chanHandler(ch))
	for i, b := range want {
		got := waitDelivery(t, ch, 5*time.Second, "ordered message")
		if string(got.msg.Body) != string(b) {
			t.Fatalf("message %d: got %q, want %q", i, got.msg.Body, b)
		}
		if got.msg.Attempts != 1 {
			t.Fatalf("message %d: attempts %d, want 1", i, got.msg.Attempts)
		}
	}
}

func TestDeferredPublish(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	waitTimersActive(t, d, topic, "ch")
	ch := make(chan delivery, 10)
	startConsumer(t, d, topic, "ch", nil, chanHandler(ch))
	p := newProducer(t, d)

	const delay = time.Second
	if err := p.DeferredPublish(topic, delay, []byte("deferred")); err != nil {
		t.Fatalf("DeferredPublish: %v", err)
	}
	published := time.Now()
	// An ordinary message published after the deferred one overtakes it.
	if err := p.Publish(topic, []byte("immediate")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	first := waitDelivery(t, ch, 3*time.Second, "immediate message")
	if string(first.msg.Body) != "immediate" {
		t.Fatalf("first delivery %q after %v, want the immediate message first",
			first.msg.Body, first.at.Sub(published))
	}
	second := waitDelivery(t, ch, delay+5*time.Second, "deferred message")
	elapsed := second.at.Sub(published)
	if string(second.msg.Body) != "deferred" {
		t.Fatalf("second delivery %q, want deferred", second.msg.Body)
	}
	if elapsed < delay-50*time.Millisecond {
		t.Fatalf("deferred message delivered after %v, before its delay %v", elapsed, delay)
	}
	if second.msg.Attempts != 1 {
		t.Errorf("deferred message attempts %d, want 1", second.msg.Attempts)
	}
	t.Logf("deferred %v message arrived after %v", delay, elapsed)
}

func TestDeferredPublishZeroIsImmediate(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	ensureChannel(t, d, topic, "ch")
	ch := make(chan delivery, 1)
	startConsumer(t, d, topic, "ch", nil, chanHandler(ch))
	p := newProducer(t, d)
	if err := p.DeferredPublish(topic, 0, []byte("now")); err != nil {
		t.Fatalf("DeferredPublish 0: %v", err)
	}
	got := waitDelivery(t, ch, 3*time.Second, "DPUB 0 message")
	if string(got.msg.Body) != "now" {
		t.Fatalf("got %q", got.msg.Body)
	}
}

func TestHandlerErrorRequeues(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	waitTimersActive(t, d, topic, "ch")
	cfg := baseConfig()
	cfg.DefaultRequeueDelay = 600 * time.Millisecond // REQ delay = 600ms * attempts
	ch := make(chan delivery, 10)
	startConsumer(t, d, topic, "ch", cfg, nsq.HandlerFunc(func(m *nsq.Message) error {
		ch <- delivery{msg: m, at: time.Now()}
		if m.Attempts == 1 {
			return errors.New("fail first attempt")
		}
		return nil
	}))
	p := newProducer(t, d)
	if err := p.Publish(topic, []byte("retry-me")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	first := waitDelivery(t, ch, 3*time.Second, "first delivery")
	if first.msg.Attempts != 1 {
		t.Fatalf("first attempts %d", first.msg.Attempts)
	}
	second := waitDelivery(t, ch, 5*time.Second, "redelivery after handler error")
	if string(second.msg.Body) != "retry-me" || second.msg.ID != first.msg.ID {
		t.Fatalf("redelivered %q id %s, want same message id %s", second.msg.Body, second.msg.ID, first.msg.ID)
	}
	if second.msg.Attempts != 2 {
		t.Fatalf("redelivery attempts %d, want 2", second.msg.Attempts)
	}
	if gap := second.at.Sub(first.at); gap < 550*time.Millisecond {
		t.Fatalf("redelivered after %v, before the 600ms requeue delay", gap)
	}
	// finished on attempt 2: must not come back
	expectNone(t, ch, 800*time.Millisecond, "after FIN")
}

// manualHandler hands every message to the test with auto-response
// disabled: the test decides FIN/REQ/TOUCH (or nothing).
func manualHandler(ch chan<- delivery) nsq.HandlerFunc {
	return func(m *nsq.Message) error {
		m.DisableAutoResponse()
		ch <- delivery{msg: m, at: time.Now()}
		return nil
	}
}

func TestExplicitRequeueWithDelay(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	waitTimersActive(t, d, topic, "ch")
	ch := make(chan delivery, 10)
	startConsumer(t, d, topic, "ch", nil, manualHandler(ch))
	p := newProducer(t, d)
	if err := p.Publish(topic, []byte("req")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	first := waitDelivery(t, ch, 3*time.Second, "first delivery")
	const delay = 800 * time.Millisecond
	requeuedAt := time.Now()
	first.msg.Requeue(delay)

	second := waitDelivery(t, ch, delay+5*time.Second, "redelivery after REQ")
	if second.msg.ID != first.msg.ID || string(second.msg.Body) != "req" {
		t.Fatalf("redelivered %s %q, want %s", second.msg.ID, second.msg.Body, first.msg.ID)
	}
	if second.msg.Attempts != 2 {
		t.Fatalf("attempts %d, want 2", second.msg.Attempts)
	}
	if gap := second.at.Sub(requeuedAt); gap < delay-50*time.Millisecond {
		t.Fatalf("redelivered %v after REQ, before the %v delay", gap, delay)
	}
	// REQ 0: straight back, attempts 3
	second.msg.Requeue(0)
	third := waitDelivery(t, ch, 3*time.Second, "redelivery after REQ 0")
	if third.msg.Attempts != 3 {
		t.Fatalf("attempts %d, want 3", third.msg.Attempts)
	}
	third.msg.Finish()
	expectNone(t, ch, 500*time.Millisecond, "after FIN")
}

func TestTouchKeepsMessageInFlight(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	waitTimersActive(t, d, topic, "ch")
	cfg := baseConfig()
	cfg.MsgTimeout = 1500 * time.Millisecond
	ch := make(chan delivery, 10)
	startConsumer(t, d, topic, "ch", cfg, manualHandler(ch))
	p := newProducer(t, d)
	if err := p.Publish(topic, []byte("touch-me")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got := waitDelivery(t, ch, 3*time.Second, "delivery")

	// Touch every 500ms for 3s (twice the 1.5s msg timeout); any
	// redelivery in that window means TOUCH did not extend the deadline.
	ticker := time.NewTicker(500 * time.Millisecond)
	defer ticker.Stop()
	end := time.After(3 * time.Second)
loop:
	for {
		select {
		case <-ticker.C:
			got.msg.Touch()
		case r := <-ch:
			t.Fatalf("message redelivered (attempts %d) %v after first delivery despite TOUCH",
				r.msg.Attempts, r.at.Sub(got.at))
		case <-end:
			break loop
		}
	}
	got.msg.Finish()
	// Without TOUCH the message would have been redelivered ~1.5s after the
	// first delivery, inside the window above; after FIN nothing may come.
	expectNone(t, ch, 500*time.Millisecond, "after TOUCH+FIN")
}

func TestMsgTimeoutRequeues(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	waitTimersActive(t, d, topic, "ch")
	cfg := baseConfig()
	cfg.MsgTimeout = time.Second
	ch := make(chan delivery, 10)
	startConsumer(t, d, topic, "ch", cfg, manualHandler(ch))
	p := newProducer(t, d)
	if err := p.Publish(topic, []byte("slow")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	first := waitDelivery(t, ch, 3*time.Second, "first delivery")
	if first.msg.Attempts != 1 {
		t.Fatalf("attempts %d", first.msg.Attempts)
	}
	// no response at all
	second := waitDelivery(t, ch, 5*time.Second, "redelivery after msg timeout")
	gap := second.at.Sub(first.at)
	if second.msg.ID != first.msg.ID {
		t.Fatalf("redelivered id %s, want %s", second.msg.ID, first.msg.ID)
	}
	if second.msg.Attempts != 2 {
		t.Fatalf("attempts %d, want 2", second.msg.Attempts)
	}
	if gap < 950*time.Millisecond {
		t.Fatalf("redelivered after %v, before the 1s msg timeout", gap)
	}
	t.Logf("timed-out message redelivered after %v", gap)
	second.msg.Finish()
	// The stale first delivery is still counted in flight by go-nsq; respond
	// to it so the consumer can drain (nsqd answers E_FIN_FAILED, non-fatal).
	first.msg.Finish()
	expectNone(t, ch, 500*time.Millisecond, "after FIN")
}

func TestTwoChannelsEachGetEverything(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	ensureChannel(t, d, topic, "a")
	ensureChannel(t, d, topic, "b")
	const n = 150
	cfg := baseConfig()
	cfg.MaxInFlight = 10
	ca, cb := newCounter(n), newCounter(n)
	startConsumer(t, d, topic, "a", cfg, ca)
	startConsumer(t, d, topic, "b", cfg, cb)
	p := newProducer(t, d)
	want := bodies("fan", n)
	if err := p.MultiPublish(topic, want[:50]); err != nil {
		t.Fatalf("MultiPublish: %v", err)
	}
	for _, b := range want[50:] {
		if err := p.Publish(topic, b); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	ca.wait(t, 10*time.Second, "channel a")
	cb.wait(t, 10*time.Second, "channel b")
	expectNoMoreCounted(t, 300*time.Millisecond, ca, cb)
	sa, _ := ca.snapshot()
	sb, _ := cb.snapshot()
	assertExactlyOnce(t, sa, want)
	assertExactlyOnce(t, sb, want)
}

// expectNoMoreCounted waits window and checks no counter went past its target.
func expectNoMoreCounted(t *testing.T, window time.Duration, cs ...*counter) {
	t.Helper()
	<-time.After(window)
	for i, c := range cs {
		if _, n := c.snapshot(); n != c.target {
			t.Errorf("counter %d: %d deliveries, want exactly %d", i, n, c.target)
		}
	}
}

func TestTwoConsumersSplitOneChannel(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	ensureChannel(t, d, topic, "shared")
	const n = 200

	var mu sync.Mutex
	seen := map[string]int{}
	per := [2]int{}
	var total int64
	done := make(chan struct{})
	mk := func(idx int) nsq.HandlerFunc {
		return func(m *nsq.Message) error {
			mu.Lock()
			seen[string(m.Body)]++
			per[idx]++
			mu.Unlock()
			if atomic.AddInt64(&total, 1) == n {
				close(done)
			}
			return nil
		}
	}
	startConsumer(t, d, topic, "shared", nil, mk(0))
	startConsumer(t, d, topic, "shared", nil, mk(1))
	p := newProducer(t, d)
	want := bodies("split", n)
	for _, b := range want {
		if err := p.Publish(topic, b); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("only %d of %d messages consumed", atomic.LoadInt64(&total), n)
	}
	<-time.After(300 * time.Millisecond) // window for (wrong) duplicates
	mu.Lock()
	defer mu.Unlock()
	if got := atomic.LoadInt64(&total); got != n {
		t.Fatalf("%d deliveries, want exactly %d", got, n)
	}
	assertExactlyOnce(t, seen, want)
	if per[0] == 0 || per[1] == 0 {
		t.Fatalf("messages not split between consumers: %d / %d", per[0], per[1])
	}
	t.Logf("split %d / %d", per[0], per[1])
}

func TestMaxInFlightLimitsUnacked(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	p := newProducer(t, d)
	const maxInFlight, n = 8, 20
	want := bodies("mif", n)
	if err := p.MultiPublish(topic, want); err != nil {
		t.Fatalf("MultiPublish: %v", err)
	}
	cfg := baseConfig()
	cfg.MaxInFlight = maxInFlight
	ch := make(chan delivery, n+5)
	startConsumer(t, d, topic, "ch", cfg, manualHandler(ch))

	seen := map[string]int{}
	recv := func(what string, timeout time.Duration) delivery {
		m := waitDelivery(t, ch, timeout, what)
		seen[string(m.msg.Body)]++
		return m
	}
	// exactly maxInFlight messages arrive while none is answered
	var held []delivery
	for i := 0; i < maxInFlight; i++ {
		held = append(held, recv("in-flight message", 5*time.Second))
	}
	expectNone(t, ch, 500*time.Millisecond, "beyond max-in-flight while all unacknowledged")

	// finishing one frees exactly one slot
	held[0].msg.Finish()
	held = append(held[1:], recv("message after one FIN", 3*time.Second))
	expectNone(t, ch, 300*time.Millisecond, "beyond max-in-flight after one FIN")

	for _, h := range held {
		h.msg.Finish()
	}
	for i := maxInFlight + 1; i < n; i++ {
		recv("remaining messages", 5*time.Second).msg.Finish()
	}
	expectNone(t, ch, 300*time.Millisecond, "after all finished")
	assertExactlyOnce(t, seen, want)
}

func TestInvalidTopicNameRejected(t *testing.T) {
	d := startNSQD(t)
	p := newProducer(t, d)
	for _, tc := range []struct {
		name string
		op   func() error
	}{
		{"PUB", func() error { return p.Publish("bad!topic", []byte("x")) }},
		{"MPUB", func() error { return p.MultiPublish("bad*topic", [][]byte{[]byte("x")}) }},
		{"DPUB", func() error { return p.DeferredPublish(strings.Repeat("t", 65), time.Second, []byte("x")) }},
	} {
		err := tc.op()
		if err == nil {
			t.Fatalf("%s to invalid topic: no error", tc.name)
		}
		if !strings.Contains(err.Error(), "E_BAD_TOPIC") {
			t.Fatalf("%s to invalid topic: error %q, want E_BAD_TOPIC", tc.name, err)
		}
		t.Logf("%s: %v", tc.name, err)
		// nsqd closes the connection after the fatal error; the producer
		// reconnects and a valid publish succeeds again.
		publishEventually(t, p, "valid_after_"+strings.ToLower(tc.name), []byte("ok"))
	}
}

// publishEventually retries a publish until it succeeds: right after a fatal
// protocol error the producer may still be tearing down the old connection.
func publishEventually(t *testing.T, p *nsq.Producer, topic string, body []byte) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := p.Publish(topic, body)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish to %s after error never succeeded: %v", topic, err)
		}
		<-time.After(50 * time.Millisecond) // retry interval
	}
}

func TestConsumerRejectsInvalidNamesLocally(t *testing.T) {
	// go-nsq validates names itself; documented here so a failure is not
	// mistaken for a server problem.
	if _, err := nsq.NewConsumer("bad topic", "ch", nsq.NewConfig()); err == nil {
		t.Fatal("NewConsumer accepted an invalid topic")
	}
}

func TestRDYZeroPausesDelivery(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	ch := make(chan delivery, 20)
	c := startConsumer(t, d, topic, "ch", nil, manualHandler(ch))
	p := newProducer(t, d)
	if err := p.Publish(topic, []byte("first")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	first := waitDelivery(t, ch, 3*time.Second, "first message")

	// While "first" is in flight (RDY 1 == in-flight 1) nothing else can be
	// delivered. RDY 0 is written synchronously on the consumer connection
	// and so reaches nsqd before the FIN below on the same connection.
	c.ChangeMaxInFlight(0)
	const n = 5
	want := bodies("paused", n)
	for _, b := range want {
		if err := p.Publish(topic, b); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	first.msg.Finish()
	expectNone(t, ch, 1*time.Second, "while RDY 0")

	c.ChangeMaxInFlight(1)
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		m := waitDelivery(t, ch, 3*time.Second, "message after RDY 1")
		seen[string(m.msg.Body)]++
		m.msg.Finish()
	}
	assertExactlyOnce(t, seen, want)
}

func TestLargeMessage(t *testing.T) {
	d := startNSQD(t)
	topic := uniqueTopic(t)
	ch := make(chan delivery, 2)
	startConsumer(t, d, topic, "ch", nil, chanHandler(ch))
	p := newProducer(t, d)
	body := make([]byte, 150*1024)
	for i := range body {
		body[i] = byte('a' + i%26)
	}
	if err := p.Publish(topic, body); err != nil {
		t.Fatalf("Publish 150 KB: %v", err)
	}
	got := waitDelivery(t, ch, 5*time.Second, "large message")
	if string(got.msg.Body) != string(body) {
		t.Fatalf("large body mismatch: got %d bytes", len(got.msg.Body))
	}
}
