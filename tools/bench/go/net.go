// net.go — the network group (run.sh's http_hello, tcp_echo, idle_conns, http_sleep):
// the Go twins of rt's servers (samples/echo's rt_echo, samples/http's rt_http) and the
// load clients, written once and pointed at either server, with their registry entries.
//
//	gobench echo-server [addr]   // rt_echo's twin: a goroutine per connection, read/write loop
//	gobench http-server [addr]   // rt_http's twin (net/http): GET /, GET /sleep?ms=N, POST /echo
//	gobench http_hello -impl I -addr A         // wrk on GET /: req/s and p99 latency
//	gobench tcp_echo   -impl I -addr A         // round trips/s over 50 connections
//	gobench idle_conns -impl I -addr A -pid P  // server RSS per idle connection
//	gobench http_sleep -impl I -addr A -pid P  // 10,000 concurrent GET /sleep?ms=100
//
// The servers listen on addr (default 127.0.0.1:0) and print `listening on HOST:PORT`
// first, as rt's do. The clients take the server's address and, where they measure the
// server itself, its process id (they read /proc/<pid>/status); each checks every answer
// and exits 1 (FAIL: on stderr, no RESULT) if one is missing or wrong. A client's tag
// server=<s> tells run.sh which servers it loads: rt_<s> and `gobench <s>-server`.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var network = []bench{
	{"http_hello", "net", 0, "server=http", "wrk -t2 -c100 -d10s on GET /; req/s, p99 ms", wrkLoad},
	{"tcp_echo", "net", 50, "server=echo", "N connections, 64-byte round trips for 5 s; rt/s",
		func(n int) { echoLoad(n, 64, 500*time.Millisecond, 5*time.Second) }},
	{"idle_conns", "net", 10000, "server=echo", "server RSS per connection, N idle; bytes",
		func(n int) { idleConns(needPid(), n, 16) }},
	{"http_sleep", "net", 10000, "server=http", "N concurrent GET /sleep?ms=100; ms, peak threads",
		func(n int) { sleepLoad(needPid(), n, 100) }},
}

// servers: the Go servers the network clients load (`gobench <s>-server [addr]`).
var servers = map[string]func(args []string){
	"echo-server": echoServer,
	"http-server": httpServer,
}

// needPid returns -pid, which the clients that measure the server need.
func needPid() int {
	if pid <= 0 {
		fail("-pid is required")
	}
	return pid
}

// echoBuf is the echo server's read buffer, rt_echo's size (samples/echo/echo.cpp:
// char buf[16 * 1024] on the connection goroutine's stack).
const echoBuf = 16 * 1024

// helloBody and textPlain are rt_http's GET / answer.
const (
	helloBody = "Hello, World!"
	textPlain = "text/plain; charset=utf-8"
)

// ---- servers ----

func listen(args []string) net.Listener {
	addr := "127.0.0.1:0"
	if len(args) > 1 {
		fail("usage: gobench <server> [addr]")
	}
	if len(args) == 1 {
		addr = args[0]
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail("listen: %v", err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	os.Stdout.Sync()
	return ln
}

// echoServer: rt_echo's loop — read what has arrived into a 16 KiB buffer, write it back.
func echoServer(args []string) {
	ln := listen(args)
	for {
		c, err := ln.Accept()
		if err != nil {
			fail("accept: %v", err)
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, echoBuf)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}(c)
	}
}

// methodIs answers 405 (with Allow) unless r's method is m, as rt_http does.
func methodIs(w http.ResponseWriter, r *http.Request, m string) bool {
	if r.Method == m {
		return true
	}
	w.Header().Set("Allow", m)
	http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
	return false
}

// httpServer: rt_http's routes (samples/http/http.cpp) on a zero-valued net/http Server:
// HTTP/1.1 keep-alive, no timeouts, no compression, the same bodies and Content-Type
// (Date and Content-Length are added by both). GET /panic is rt_http's alone.
func httpServer(args []string) {
	ln := listen(args)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if methodIs(w, r, http.MethodGet) {
			w.Header().Set("Content-Type", textPlain)
			io.WriteString(w, helloBody)
		}
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		if !methodIs(w, r, http.MethodGet) {
			return
		}
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || ms > 60000 {
			http.Error(w, "ms must be an integer from 0 to 60000", http.StatusBadRequest)
			return
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		w.Header().Set("Content-Type", textPlain)
		fmt.Fprintf(w, "slept %d ms\n", ms)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if !methodIs(w, r, http.MethodPost) {
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		typ := r.Header.Get("Content-Type")
		if typ == "" {
			typ = "application/octet-stream"
		}
		w.Header().Set("Content-Type", typ)
		w.Write(body)
	})
	fail("serve: %v", (&http.Server{Handler: mux}).Serve(ln))
}

// ---- clients ----

// http_hello: one GET / checked (status, content type, body), then wrk -t2 -c100 -d10s
// --latency on it: http_hello (req/s) and http_hello_p99 (ms, wrk's 99th percentile).
func wrkLoad(int) {
	url := "http://" + addr + "/"
	resp, err := http.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	if err != nil || resp.StatusCode != 200 || string(body) != helloBody ||
		resp.Header.Get("Content-Type") != textPlain {
		fail("GET %s: %s %q %q (want 200, %q, %q)", url, resp.Status,
			resp.Header.Get("Content-Type"), body, textPlain, helloBody)
	}
	var hdr bytes.Buffer
	resp.Header.Write(&hdr)
	note("%s %s: %s", impl, url, strings.ReplaceAll(strings.TrimSpace(hdr.String()), "\r\n", "; "))

	cmd := exec.Command("wrk", "-t2", "-c100", "-d10s", "--latency", url)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	os.Stderr.Write(out)
	if err != nil {
		fail("wrk: %v", err)
	}
	text := string(out)
	if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindStringSubmatch(text); m != nil {
		fail("wrk: %s non-2xx answers", m[1])
	}
	if m := regexp.MustCompile(`Socket errors: (.*)`).FindStringSubmatch(text); m != nil {
		fail("wrk: socket errors: %s", m[1])
	}
	rps := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`).FindStringSubmatch(text)
	p99 := regexp.MustCompile(`\n\s+99%\s+([0-9.]+)(us|ms|s|m)\b`).FindStringSubmatch(text)
	if rps == nil || p99 == nil {
		fail("wrk: no Requests/sec or 99%% line")
	}
	r, _ := strconv.ParseFloat(rps[1], 64)
	l, _ := strconv.ParseFloat(p99[1], 64)
	l *= map[string]float64{"us": 1e-3, "ms": 1, "s": 1e3, "m": 60e3}[p99[2]]
	result("http_hello", r, "req/s")
	result("http_hello_p99", l, "ms")
}

// roundTrip writes msg and reads len(msg) bytes back into got, checking they are msg.
func roundTrip(c net.Conn, msg, got []byte) error {
	if _, err := c.Write(msg); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if !bytes.Equal(msg, got) {
		return fmt.Errorf("echoed %q, sent %q", got, msg)
	}
	return nil
}

// tcp_echo: conns connections, each one goroutine doing round trips of size bytes (a
// new pattern each time, every echo checked) back to back; the round trips all of them
// complete in d after a warm-up, per second.
func echoLoad(conns, size int, warm, d time.Duration) {
	var count int64
	var stop int32
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fail("dial %s: %v", addr, err)
		}
		cs[i] = c
	}
	wg.Add(conns)
	for i, c := range cs {
		go func(i int, c net.Conn) {
			defer wg.Done()
			msg, got := make([]byte, size), make([]byte, size)
			for k := 0; atomic.LoadInt32(&stop) == 0; k++ {
				for j := range msg {
					msg[j] = byte('a' + (i+j+k)%26)
				}
				if err := roundTrip(c, msg, got); err != nil {
					errs <- fmt.Errorf("conn %d, round trip %d: %v", i, k, err)
					return
				}
				atomic.AddInt64(&count, 1)
			}
		}(i, c)
	}
	time.Sleep(warm)
	c0, t0 := atomic.LoadInt64(&count), time.Now()
	time.Sleep(d)
	c1, el := atomic.LoadInt64(&count), time.Since(t0)
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	close(errs)
	for err := range errs {
		fail("tcp_echo: %v", err)
	}
	for _, c := range cs {
		c.Close()
	}
	note("tcp_echo %s: %d connections, %d-byte messages, %d round trips in %v",
		impl, conns, size, c1-c0, el)
	result("tcp_echo", float64(c1-c0)/el.Seconds(), "rt/s")
}

// idle_conns: the server's VmRSS, then n connections opened (dialers goroutines dialing
// one after another, so as fast as the server accepts), each checked by one 64-byte
// round trip, then left idle; 200 ms later the server's VmRSS again: bytes per connection.
func idleConns(pid, n, dialers int) {
	before := procStatus(pid, "VmRSS", "Threads")
	cs := make([]net.Conn, n)
	var next int64 = -1
	var wg sync.WaitGroup
	errs := make(chan error, dialers)
	t0 := time.Now()
	wg.Add(dialers)
	for d := 0; d < dialers; d++ {
		go func() {
			defer wg.Done()
			msg, got := make([]byte, 64), make([]byte, 64)
			for {
				i := int(atomic.AddInt64(&next, 1))
				if i >= n {
					return
				}
				c, err := net.DialTimeout("tcp", addr, 30*time.Second)
				if err != nil {
					errs <- fmt.Errorf("dial %d: %v", i, err)
					return
				}
				cs[i] = c
				for j := range msg {
					msg[j] = byte('a' + (i+j)%26)
				}
				c.SetDeadline(time.Now().Add(30 * time.Second))
				if err := roundTrip(c, msg, got); err != nil {
					errs <- fmt.Errorf("conn %d: %v", i, err)
					return
				}
				c.SetDeadline(time.Time{})
			}
		}()
	}
	wg.Wait()
	open := time.Since(t0)
	close(errs)
	for err := range errs {
		fail("idle_conns: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	after := procStatus(pid, "VmRSS", "Threads")
	// Still connected: each conn must still echo (the server kept them all).
	for i, c := range cs[:10] {
		if err := roundTrip(c, []byte("still there"), make([]byte, 11)); err != nil {
			fail("idle_conns: conn %d after the measurement: %v", i, err)
		}
	}
	note("idle_conns %s: %d connections open and checked in %v; server VmRSS %d -> %d kB, threads %d -> %d",
		impl, n, open, before["VmRSS"], after["VmRSS"], before["Threads"], after["Threads"])
	result("idle_conns", float64(after["VmRSS"]-before["VmRSS"])*1024/float64(n), "bytes")
	for _, c := range cs {
		c.Close()
	}
}

// getOnce sends GET path on a connection of its own (dialed here, closed once the answer
// is read) and reads the answer with net/http's parser: its status and body.
func getOnce(addr, path string) (int, []byte, error) {
	c, err := net.DialTimeout("tcp", addr, 60*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(120 * time.Second))
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// http_sleep: n goroutines each GET /sleep?ms=<ms> at once, each on its own connection
// (getOnce: lighter than http.Transport's two goroutines and buffers per connection, so
// more of the shared cores go to the server), every answer a 200; the wall time from the
// first request to the last answer, and the server's peak thread count (its
// /proc/<pid>/status Threads sampled every 5 ms meanwhile).
func sleepLoad(pid, n, ms int) {
	path := fmt.Sprintf("/sleep?ms=%d", ms)
	base := procStatus(pid, "VmRSS", "Threads")
	var peakThreads, peakRSS int64 = base["Threads"], base["VmRSS"]
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			s := procStatus(pid, "VmRSS", "Threads")
			if s["Threads"] > peakThreads {
				peakThreads = s["Threads"]
			}
			if s["VmRSS"] > peakRSS {
				peakRSS = s["VmRSS"]
			}
		}
	}()
	var ok int64
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []string
	nerr := 0
	start := make(chan struct{})
	var t0 time.Time
	lat := make([]time.Duration, n)
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			<-start
			defer func() { lat[i] = time.Since(t0) }()
			status, _, err := getOnce(addr, path)
			if err == nil && status != 200 {
				err = fmt.Errorf("status %d", status)
			}
			if err != nil {
				errMu.Lock()
				if nerr++; len(errs) < 5 {
					errs = append(errs, err.Error())
				}
				errMu.Unlock()
				return
			}
			atomic.AddInt64(&ok, 1)
		}(i)
	}
	t0 = time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(t0)
	close(done)
	<-sampled
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	q := func(f float64) time.Duration { return lat[int(f*float64(n-1))].Round(time.Millisecond) }
	note("http_sleep %s: %d/%d answered 200 in %v (answers at p50 %v p90 %v p99 %v); "+
		"server threads %d, peak %d; VmRSS %d kB, peak %d kB", impl, ok, n, wall, q(.5), q(.9), q(.99),
		base["Threads"], peakThreads, base["VmRSS"], peakRSS)
	if ok != int64(n) {
		fail("http_sleep: %d of %d requests answered 200; %d errors, first: %s", ok, n, nerr,
			strings.Join(errs, " | "))
	}
	result("http_sleep", float64(wall.Nanoseconds())/1e6, "ms")
	result("http_sleep_threads", float64(peakThreads), "threads")
}
