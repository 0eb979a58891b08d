// http_load: a small HTTP publishing load generator for bench/compare_http.py. It keeps
// -conns keep-alive connections busy with POST /pub (one message per request) or POST /mpub
// (-batch newline-separated messages per request) for -duration and prints one line:
//
//	requests=<n> messages=<n> errors=<n> seconds=<s> msg_per_sec=<r>
//
// By default each connection writes pre-built HTTP/1.1 requests on a raw TCP socket and parses
// only the status line and Content-Length of the answers, so the client spends little CPU and
// the servers (sharing the machine) are what is measured; -stdlib uses net/http instead.
// Go standard library only, so the same client drives ours and the reference nsqd.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4151", "nsqd HTTP address")
	mode := flag.String("mode", "pub", "pub or mpub")
	topic := flag.String("topic", "bench_http", "topic")
	conns := flag.Int("conns", 8, "concurrent keep-alive connections")
	size := flag.Int("size", 100, "message size in bytes")
	batch := flag.Int("batch", 100, "messages per /mpub request")
	duration := flag.Duration("duration", 5*time.Second, "how long to publish")
	stdlib := flag.Bool("stdlib", false, "use net/http instead of raw keep-alive sockets")
	flag.Parse()

	msg := bytes.Repeat([]byte("x"), *size)
	var body []byte
	perRequest := 1
	url := fmt.Sprintf("http://%s/pub?topic=%s", *addr, *topic)
	if *mode == "mpub" {
		perRequest = *batch
		url = fmt.Sprintf("http://%s/mpub?topic=%s", *addr, *topic)
		for i := 0; i < *batch; i++ {
			body = append(body, msg...)
			body = append(body, '\n')
		}
	} else {
		body = msg
	}

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        *conns,
		MaxIdleConnsPerHost: *conns,
		MaxConnsPerHost:     *conns,
		DisableCompression:  true,
	}}
	var requests, errors atomic.Int64
	deadline := time.Now().Add(*duration)
	start := time.Now()
	var wg sync.WaitGroup
	if !*stdlib {
		path := strings.TrimPrefix(url, "http://"+*addr)
		request := []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n",
			path, *addr, len(body)))
		request = append(request, body...)
		for i := 0; i < *conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rawLoop(*addr, request, deadline, &requests, &errors)
			}()
		}
	}
	for i := 0; *stdlib && i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				resp, err := client.Post(url, "application/octet-stream", bytes.NewReader(body))
				if err != nil {
					errors.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errors.Add(1)
					continue
				}
				requests.Add(1)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	n := requests.Load()
	fmt.Printf("requests=%d messages=%d errors=%d seconds=%.3f msg_per_sec=%.0f\n",
		n, n*int64(perRequest), errors.Load(), secs, float64(n*int64(perRequest))/secs)
	if errors.Load() > 0 {
		os.Exit(1)
	}
}

// rawLoop sends `request` and reads one response at a time until the deadline.
func rawLoop(addr string, request []byte, deadline time.Time, requests, errors *atomic.Int64) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		errors.Add(1)
		return
	}
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64*1024)
	for time.Now().Before(deadline) {
		if _, err := conn.Write(request); err != nil {
			errors.Add(1)
			return
		}
		status, length := 0, 0
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				errors.Add(1)
				return
			}
			s := string(bytes.TrimRight(line, "\r\n"))
			if s == "" {
				break
			}
			if status == 0 && strings.HasPrefix(s, "HTTP/1.") && len(s) >= 12 {
				status, _ = strconv.Atoi(s[9:12])
			} else if k, v, ok := strings.Cut(s, ":"); ok && strings.EqualFold(k, "Content-Length") {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if _, err := r.Discard(length); err != nil {
			errors.Add(1)
			return
		}
		if status != 200 {
			errors.Add(1)
			continue
		}
		requests.Add(1)
	}
}
