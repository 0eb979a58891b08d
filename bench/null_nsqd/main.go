package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
)

// null_nsqd: the ceiling of the load generator. It speaks just enough of protocol V2 for
// bench_writer (magic, then PUB/MPUB with a body) and answers every command with OK at once,
// storing nothing. bench_writer against it shows how fast the writer itself can go on this
// machine, so a ratio against the reference can be read against what is reachable at all.
//
//	go build -o /tmp/null_nsqd . && /tmp/null_nsqd 127.0.0.1:14250
func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: null_nsqd HOST:PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		panic(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			panic(err)
		}
		go func(c net.Conn) {
			defer c.Close()
			r := bufio.NewReaderSize(c, 65536)
			magic := make([]byte, 4)
			if _, err := io.ReadFull(r, magic); err != nil {
				return
			}
			ok := []byte{0, 0, 0, 6, 0, 0, 0, 0, 'O', 'K'}
			body := make([]byte, 1<<20)
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) > 4 && (string(line[:4]) == "MPUB" || string(line[:4]) == "PUB ") {
					var sz [4]byte
					if _, err := io.ReadFull(r, sz[:]); err != nil {
						return
					}
					n := binary.BigEndian.Uint32(sz[:])
					if int(n) > len(body) {
						body = make([]byte, n)
					}
					if _, err := io.ReadFull(r, body[:n]); err != nil {
						return
					}
				}
				if _, err := c.Write(ok); err != nil {
					return
				}
			}
		}(c)
	}
}
