package systemtest

// AUTH through go-nsq's Config.AuthSecret against an in-process auth server, ours and the
// reference with the same expectations.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	nsq "github.com/nsqio/go-nsq"
)

func startAuthServer(t *testing.T, queries *int32) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt32(queries, 1)
		if r.URL.Path != "/auth" || r.URL.Query().Get("secret") != "go-secret" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		json.NewEncoder(w).Encode(map[string]interface{}{
			"ttl": 3600, "identity": "gopher", "identity_url": "https://id.example/gopher",
			"authorizations": []map[string]interface{}{{
				"topic": "^auth_ok", "channels": []string{".*"},
				"permissions": []string{"publish", "subscribe"}}},
		})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestAuthSecret(t *testing.T) {
	forEachServer(t, func(t *testing.T, bin string) {
		var queries int32
		d := startNSQDBin(t, bin, "--auth-http-address="+startAuthServer(t, &queries))
		cfg := func(secret string) *nsq.Config {
			c := nsq.NewConfig()
			c.AuthSecret = secret
			return c
		}
		p, err := nsq.NewProducer(d.TCPAddr, cfg("go-secret"))
		if err != nil {
			t.Fatal(err)
		}
		p.SetLogger(newTestLogger(t), nsq.LogLevelError)
		defer p.Stop()
		if err := p.Publish("auth_ok_topic", []byte("x")); err != nil {
			t.Fatalf("authorised publish: %v", err)
		}
		err = p.Publish("denied_topic", []byte("x"))
		if err == nil || !strings.Contains(err.Error(), `E_UNAUTHORIZED AUTH failed for PUB on "denied_topic" ""`) {
			t.Fatalf("publish outside the grant: err = %v", err)
		}

		bad, err := nsq.NewProducer(d.TCPAddr, cfg("wrong"))
		if err != nil {
			t.Fatal(err)
		}
		bad.SetLogger(newTestLogger(t), nsq.LogLevelError)
		defer bad.Stop()
		if err := bad.Publish("auth_ok_topic", []byte("x")); err == nil ||
			!strings.Contains(err.Error(), "E_AUTH_FAILED") {
			t.Fatalf("publish with a rejected secret: err = %v", err)
		}

		cnt := newCounter(1)
		c := cfg("go-secret")
		c.MaxBackoffDuration = 0
		startConsumer(t, d, "auth_ok_topic", "ch", c, cnt)
		// p's connection was closed by the E_UNAUTHORIZED above: publish with a fresh one.
		p2, err := nsq.NewProducer(d.TCPAddr, cfg("go-secret"))
		if err != nil {
			t.Fatal(err)
		}
		p2.SetLogger(newTestLogger(t), nsq.LogLevelError)
		defer p2.Stop()
		if err := p2.Publish("auth_ok_topic", []byte("y")); err != nil {
			t.Fatalf("publish: %v", err)
		}
		cnt.wait(t, 10*time.Second, "consume")
		if n := atomic.LoadInt32(&queries); n < 3 {
			t.Fatalf("auth server queried %d times, want >= 3", n)
		}
	})
}
