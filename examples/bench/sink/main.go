// Command sink is the tiny keep-alive HTTP/1.1 target that
// examples/bench/compare.sh measures load generators against. It answers
// every request with "200 OK" and a 2-byte body, optionally after a fixed
// sleep, and listens on loopback only.
//
//	go run ./examples/bench/sink -addr 127.0.0.1:8089 -sleep 10ms
//
// It prints the address it listens on as its first line of output.
//
// It speaks just enough HTTP/1.1 for a load generator (request line,
// headers, a Content-Length body, keep-alive, pipelining, Connection: close)
// and skips net/http on purpose: on one core net/http tops out near 30,000
// req/s, which would make the target, not the generator, the bottleneck of
// the comparison.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	sleep := flag.Duration("sleep", 0, "how long each request waits before it is answered")
	flag.Parse()
	if err := serve(*addr, *sleep); err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(1)
	}
}

func serve(addr string, sleep time.Duration) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %q: the sink listens on loopback only (127.0.0.1)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go handle(c, sleep)
	}
}

var (
	response = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
	closing  = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	badReq   = []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
)

// handle serves one connection: requests in order, one response each.
func handle(c net.Conn, sleep time.Duration) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 4096)
	for {
		length, keep, err := readHead(r)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_, _ = w.Write(badReq)
				_ = w.Flush()
			}
			return
		}
		if length > 0 {
			if _, err := r.Discard(int(length)); err != nil {
				return
			}
		}
		if sleep > 0 {
			time.Sleep(sleep)
		}
		if !keep {
			_, _ = w.Write(closing)
			_ = w.Flush()
			return
		}
		_, _ = w.Write(response)
		// Answer pipelined requests in one write.
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

// readHead reads a request line and headers, and returns the body's length
// and whether the connection stays open afterwards.
func readHead(r *bufio.Reader) (length int64, keep bool, err error) {
	keep = true
	for first := true; ; first = false {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if first && len(line) == 0 && err == io.EOF {
				return 0, false, io.EOF
			}
			return 0, false, fmt.Errorf("read request: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case first:
			if bytes.HasSuffix(line, []byte("HTTP/1.0")) {
				keep = false
			}
		case len(line) == 0:
			return length, keep, nil
		default:
			k, v, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				return 0, false, errors.New("bad header line")
			}
			v = bytes.TrimSpace(v)
			switch {
			case bytes.EqualFold(k, []byte("Content-Length")):
				if length, err = strconv.ParseInt(string(v), 10, 64); err != nil || length < 0 {
					return 0, false, errors.New("bad Content-Length")
				}
			case bytes.EqualFold(k, []byte("Connection")):
				if bytes.EqualFold(v, []byte("close")) {
					keep = false
				} else if bytes.EqualFold(v, []byte("keep-alive")) {
					keep = true
				}
			case bytes.EqualFold(k, []byte("Transfer-Encoding")):
				return 0, false, errors.New("chunked request bodies are not supported")
			}
		}
	}
}
