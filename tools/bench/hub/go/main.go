// Go peer of hub_bench: capture_message from 8 goroutines to a counting transport with
// sentry-go (Debian's golang-github-getsentry-sentry-go-dev). Each goroutine clones the
// current hub (the docs' CORRECT pattern), tags it, and captures n messages.
// Usage: gohubbench capture [n]; prints `RESULT name=capture_message_8g impl=go ...`.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/getsentry/sentry-go"
)

// countingTransport takes each event and drops it, counting under a mutex (as the rt
// twin's counting_transport: neither side measures a heap that keeps every event).
type countingTransport struct {
	mu    sync.Mutex
	count int
}

func (t *countingTransport) Configure(options sentry.ClientOptions) {}
func (t *countingTransport) SendEvent(event *sentry.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count++
}
func (t *countingTransport) Flush(timeout time.Duration) bool { return true }

func main() {
	if len(os.Args) < 2 || os.Args[1] != "capture" {
		fmt.Fprintln(os.Stderr, "usage: gohubbench capture [n]")
		os.Exit(2)
	}
	n := 25000
	if len(os.Args) > 2 {
		if v, err := strconv.Atoi(os.Args[2]); err == nil && v > 0 {
			n = v
		}
	}
	transport := &countingTransport{}
	if err := sentry.Init(sentry.ClientOptions{Release: "bench@1", Transport: transport}); err != nil {
		fmt.Fprintln(os.Stderr, "sentry.Init:", err)
		os.Exit(1)
	}
	sentry.CaptureMessage("warm-up") // as the rt twin: one capture before the clock starts
	const goroutines = 8
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			hub := sentry.CurrentHub().Clone()
			hub.ConfigureScope(func(s *sentry.Scope) { s.SetTag("goroutine", strconv.Itoa(g)) })
			for i := 0; i < n; i++ {
				hub.CaptureMessage("benchmark message")
			}
		}(g)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	transport.mu.Lock()
	got := transport.count - 1
	transport.mu.Unlock()
	if got != goroutines*n {
		fmt.Fprintf(os.Stderr, "FAIL: kept %d events of %d\n", got, goroutines*n)
		os.Exit(1)
	}
	fmt.Printf("RESULT name=capture_message_8g impl=go value=%.3f unit=events/s\n", float64(got)/secs)
}
