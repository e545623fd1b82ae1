// Command sink is the tiny keep-alive HTTP/1.1 target that
// examples/bench/compare.sh measures load generators against. It answers
// every request with "200 OK" and a 2-byte body, optionally after a fixed
// sleep, and listens on loopback only.
//
//	go run ./examples/bench/sink -addr 127.0.0.1:8089 -sleep 10ms
//
// It prints the address it listens on as its first line of output. With
// -sleep, it measures how long each wait really took, and when it is stopped
// (SIGTERM or SIGINT) prints a last line with the median and 99th percentile:
// the target's own share of the latency the generators report.
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
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	sleep := flag.Duration("sleep", 0, "how long each request waits before it is answered")
	flag.Parse()
	if *sleep > 0 {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		go func() {
			<-stop
			fmt.Println(slept.summary())
			os.Exit(0)
		}()
	}
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
	var sl *sleeper
	if sleep > 0 {
		sl = newSleeper()
		defer sl.close()
	}
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
		if sl != nil {
			began := time.Now()
			sl.sleep(sleep)
			slept.add(time.Since(began))
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

// waits counts the sink's waits by their real length, in microseconds up to
// a second (longer ones in the last bucket).
type waits [1_000_001]atomic.Uint64

var slept waits

func (h *waits) add(d time.Duration) {
	us := min(d.Microseconds(), int64(len(h)-1))
	h[max(us, 0)].Add(1)
}

// summary is "slept N times: p50 …ms p99 …ms".
func (h *waits) summary() string {
	var n uint64
	for i := range h {
		n += h[i].Load()
	}
	if n == 0 {
		return "sink: slept 0 times"
	}
	at := func(q float64) float64 {
		rank := uint64(q*float64(n-1)) + 1
		var seen uint64
		for i := range h {
			if seen += h[i].Load(); seen >= rank {
				return float64(i) / 1000
			}
		}
		return float64(len(h)-1) / 1000
	}
	return fmt.Sprintf("sink: slept %d times: p50 %.3fms p99 %.3fms", n, at(0.50), at(0.99))
}
