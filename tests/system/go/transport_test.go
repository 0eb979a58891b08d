package systemtest

// Connection features negotiated in IDENTIFY (snappy, deflate, TLS) through go-nsq's
// Config, run with the same expectations against our nsqd and the reference
// ($NSQD_REF_BIN, default /work/refbin/nsqd). Certificates are made at test time with
// the openssl CLI.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nsq "github.com/nsqio/go-nsq"
)

func refNSQDBin() string {
	if b := os.Getenv("NSQD_REF_BIN"); b != "" {
		return b
	}
	return "/work/refbin/nsqd"
}

// forEachServer runs fn as subtests "ours" and "ref".
func forEachServer(t *testing.T, fn func(t *testing.T, bin string)) {
	t.Run("ours", func(t *testing.T) { fn(t, nsqdBin(t)) })
	t.Run("ref", func(t *testing.T) {
		bin := refNSQDBin()
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("reference nsqd %q: %v", bin, err)
		}
		fn(t, bin)
	})
}

type testCerts struct{ dir, ca, cert, key, clientCert, clientKey string }

func makeCerts(t *testing.T) testCerts {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl CLI not installed")
	}
	d := t.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("openssl", args...)
		cmd.Dir = d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=nsq-test-ca",
		"-keyout", "ca.key", "-out", "ca.pem")
	if err := os.WriteFile(filepath.Join(d, "san.ext"),
		[]byte("subjectAltName=IP:127.0.0.1,DNS:localhost\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"server", "client"} {
		run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN="+name, "-keyout", name+".key",
			"-out", name+".csr")
		run("x509", "-req", "-in", name+".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
			"-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", name+".pem")
	}
	j := func(f string) string { return filepath.Join(d, f) }
	return testCerts{d, j("ca.pem"), j("server.pem"), j("server.key"), j("client.pem"), j("client.key")}
}

func (c testCerts) clientTLS(t *testing.T, withClientCert bool) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(c.ca)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if withClientCert {
		pair, err := tls.LoadX509KeyPair(c.clientCert, c.clientKey)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

type statsClient struct {
	Snappy      bool   `json:"snappy"`
	Deflate     bool   `json:"deflate"`
	TLS         bool   `json:"tls"`
	TLSVersion  string `json:"tls_version"`
	CipherSuite string `json:"tls_cipher_suite"`
	IsMutual    bool   `json:"tls_negotiated_protocol_is_mutual"`
}

func statsClients(t *testing.T, d *Daemon, topic string) []statsClient {
	t.Helper()
	resp, err := http.Get("http://" + d.HTTPAddr + "/stats?format=json&topic=" + topic)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Topics []struct {
			Name     string `json:"topic_name"`
			Channels []struct {
				Clients []statsClient `json:"clients"`
			} `json:"channels"`
		} `json:"topics"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("stats JSON: %v", err)
	}
	var out []statsClient
	for _, tp := range body.Topics {
		if tp.Name == topic {
			for _, ch := range tp.Channels {
				out = append(out, ch.Clients...)
			}
		}
	}
	return out
}

// roundTrip publishes n messages with a producer using cfg and consumes them with a
// consumer using a copy of cfg; each must arrive exactly once. Returns the consumer's
// /stats entry while connected.
func roundTrip(t *testing.T, d *Daemon, cfg func() *nsq.Config) []statsClient {
	t.Helper()
	topic := uniqueTopic(t)
	p, err := nsq.NewProducer(d.TCPAddr, cfg())
	if err != nil {
		t.Fatal(err)
	}
	p.SetLogger(newTestLogger(t), nsq.LogLevelError)
	t.Cleanup(p.Stop)
	const n = 100
	want := bodies("transport", n)
	for i := range want {
		// half compressible, half not, a few KB each
		pad := make([]byte, 2000)
		for j := range pad {
			if i%2 == 0 {
				pad[j] = 'x'
			} else {
				pad[j] = byte((i*7919 + j*104729) >> 3)
			}
		}
		want[i] = append(want[i], pad...)
	}
	if err := p.Publish(topic, want[0]); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := p.MultiPublish(topic, want[1:]); err != nil {
		t.Fatalf("MultiPublish: %v", err)
	}
	cnt := newCounter(n)
	c := cfg()
	c.MaxBackoffDuration = 0
	startConsumer(t, d, topic, "ch", c, cnt)
	cnt.wait(t, 10*time.Second, "consume")
	seen, _ := cnt.snapshot()
	assertExactlyOnce(t, seen, want)
	return statsClients(t, d, topic)
}

func TestSnappyRoundTrip(t *testing.T) {
	forEachServer(t, func(t *testing.T, bin string) {
		d := startNSQDBin(t, bin, "--snappy")
		clients := roundTrip(t, d, func() *nsq.Config { c := nsq.NewConfig(); c.Snappy = true; return c })
		if len(clients) != 1 || !clients[0].Snappy || clients[0].Deflate {
			t.Fatalf("stats clients = %+v, want one snappy client", clients)
		}
	})
}

func TestDeflateRoundTrip(t *testing.T) {
	forEachServer(t, func(t *testing.T, bin string) {
		d := startNSQDBin(t, bin, "--deflate", "--max-deflate-level=9")
		for _, level := range []int{1, 9} {
			t.Run(fmt.Sprint("level", level), func(t *testing.T) {
				clients := roundTrip(t, d, func() *nsq.Config {
					c := nsq.NewConfig()
					c.Deflate = true
					c.DeflateLevel = level
					return c
				})
				if len(clients) != 1 || !clients[0].Deflate {
					t.Fatalf("stats clients = %+v, want one deflate client", clients)
				}
			})
		}
	})
}

func TestTLSRoundTrip(t *testing.T) {
	certs := makeCerts(t)
	forEachServer(t, func(t *testing.T, bin string) {
		d := startNSQDBin(t, bin, "--tls-cert="+certs.cert, "--tls-key="+certs.key)
		for _, mode := range []string{"plain", "snappy", "deflate"} {
			t.Run(mode, func(t *testing.T) {
				clients := roundTrip(t, d, func() *nsq.Config {
					c := nsq.NewConfig()
					c.TlsV1 = true
					c.TlsConfig = certs.clientTLS(t, false)
					c.Snappy = mode == "snappy"
					c.Deflate = mode == "deflate"
					return c
				})
				// go-nsq speaks TLS 1.3; the reference's suite names predate it
				// (TLS_AES_128_GCM_SHA256 = 0x1301 prints as "Unknown 4865").
				if len(clients) != 1 || !clients[0].TLS || clients[0].TLSVersion != "TLS1.3" ||
					clients[0].CipherSuite != "Unknown 4865" || !clients[0].IsMutual ||
					clients[0].Snappy != (mode == "snappy") || clients[0].Deflate != (mode == "deflate") {
					t.Fatalf("stats clients = %+v", clients)
				}
			})
		}
	})
}

func TestTLSClientCertificateRequired(t *testing.T) {
	certs := makeCerts(t)
	forEachServer(t, func(t *testing.T, bin string) {
		d := startNSQDBin(t, bin, "--tls-cert="+certs.cert, "--tls-key="+certs.key,
			"--tls-root-ca-file="+certs.ca, "--tls-client-auth-policy=require-verify",
			"--tls-required=tcp-https")
		roundTrip(t, d, func() *nsq.Config {
			c := nsq.NewConfig()
			c.TlsV1 = true
			c.TlsConfig = certs.clientTLS(t, true)
			return c
		})
		c := nsq.NewConfig()
		c.TlsV1 = true
		c.TlsConfig = certs.clientTLS(t, false)
		p, err := nsq.NewProducer(d.TCPAddr, c)
		if err != nil {
			t.Fatal(err)
		}
		p.SetLogger(newTestLogger(t), nsq.LogLevelError)
		defer p.Stop()
		if err := p.Publish(uniqueTopic(t), []byte("x")); err == nil {
			t.Fatal("publish without a client certificate succeeded")
		}
	})
}

// A client that does not trust the server's CA must fail the upgrade with go-nsq's
// verification error, and nothing it sent may be served in plain text instead.
func TestTLSUnknownCAFailsWithoutPlainTextFallback(t *testing.T) {
	certs := makeCerts(t)
	forEachServer(t, func(t *testing.T, bin string) {
		d := startNSQDBin(t, bin, "--tls-cert="+certs.cert, "--tls-key="+certs.key)
		c := nsq.NewConfig()
		c.TlsV1 = true
		c.TlsConfig = &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "127.0.0.1"}
		p, err := nsq.NewProducer(d.TCPAddr, c)
		if err != nil {
			t.Fatal(err)
		}
		p.SetLogger(newTestLogger(t), nsq.LogLevelError)
		defer p.Stop()
		topic := uniqueTopic(t)
		err = p.Publish(topic, []byte("x"))
		if err == nil {
			t.Fatal("publish with an untrusted server certificate succeeded")
		}
		if want := "certificate signed by unknown authority"; !strings.Contains(err.Error(), want) {
			t.Fatalf("publish error = %q, want it to contain %q", err, want)
		}
		resp, err := http.Get("http://" + d.HTTPAddr + "/stats?format=json&topic=" + topic)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Topics []json.RawMessage `json:"topics"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		if len(body.Topics) != 0 {
			t.Fatalf("topic %s exists after a failed TLS upgrade: %s", topic, body.Topics)
		}
	})
}
