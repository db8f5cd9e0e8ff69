// hub.go — the hub group's Go twin: capture (../rt/hub.cpp's), capture_message from 8
// goroutines to a counting transport with sentry-go (Debian's
// golang-github-getsentry-sentry-go-dev). Each goroutine clones the current hub (the
// docs' CORRECT pattern), tags it, and captures n messages.
package main

import (
	"strconv"
	"sync"
	"time"

	"github.com/getsentry/sentry-go"
)

var hub = []bench{
	{"capture", "hub", 25000, "-", "capture_message, 8 goroutines x N, counting transport; events/s", benchCapture},
}

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

func benchCapture(n int) {
	transport := &countingTransport{}
	if err := sentry.Init(sentry.ClientOptions{Release: "bench@1", Transport: transport}); err != nil {
		fail("sentry.Init: %v", err)
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
		fail("kept %d events of %d", got, goroutines*n)
	}
	result("capture_message_8g", float64(got)/secs, "events/s")
}
