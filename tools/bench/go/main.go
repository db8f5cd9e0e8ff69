// Go twins of every rt benchmark (../rtbench.cpp, ../coordination/coordbench.cpp): the
// same workloads, sizes, channel capacities, random numbers and timed regions, printing
// the same `RESULT name=<bench> impl=go value=<v> unit=<u>` lines, so run.sh puts rt and
// Go in one table. Standard library only: GO111MODULE=off go build -o gobench main.go.
//
//	gobench <bench> [-n N]
//
// Benches: skynet, spawn_join, yield_ping, idle_cpu, pingpong_unbuf, chan_buf1024,
// mutex_counter, select4, parked_memory, timers (+ timers_cpu, timers_idle_cpu), million.
// -n overrides the size for quick checks, as on rt's side; without it the real sizes apply.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func result(name string, value float64, unit string) {
	fmt.Printf("RESULT name=%s impl=go value=%.3f unit=%s\n", name, value, unit)
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
	os.Exit(1)
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

// cpuSeconds returns the user + system CPU time this process has used (all threads).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// rssBytes is the process's resident set: /proc/self/statm's resident pages times the
// page size (rt's rss_bytes in ../bench_util.hpp reads the same).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fail("read /proc/self/statm: %v", err)
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		fail("short /proc/self/statm: %q", data)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		fail("/proc/self/statm: %v", err)
	}
	return pages * int64(os.Getpagesize())
}

// splitmix64: the generator both twins use, so each goroutine sleeps the same
// durations on both sides (and seeding one costs nothing on either).
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// skynet: a 10-ary tree of goroutines with `leaves` leaves; each node sums its
// children's numbers received over an unbuffered channel.
func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	for i := 0; i < div; i++ {
		go skynet(rc, num+i*(size/div), size/div, div)
	}
	sum := 0
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func benchSkynet(leaves int) {
	start := time.Now()
	c := make(chan int)
	go skynet(c, 0, leaves, 10)
	sum := <-c
	ms := msSince(start)
	if sum != leaves*(leaves-1)/2 {
		fail("skynet sum %d", sum)
	}
	result("skynet", ms, "ms")
}

// spawn_join: n goroutines that each bump a counter, joined by one WaitGroup.
func benchSpawnJoin(n int) {
	var wg sync.WaitGroup
	var cnt int64
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&cnt, 1)
			wg.Done()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if cnt != int64(n) {
		fail("spawn_join count %d", cnt)
	}
	result("spawn_join", float64(el.Nanoseconds())/float64(n), "ns/op")
}

// yield_ping: two goroutines each yielding n times; ns per yield.
func benchYieldPing(n int) {
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(2)
	for g := 0; g < 2; g++ {
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	result("yield_ping", float64(time.Since(start).Nanoseconds())/float64(2*n), "ns/op")
}

// idle_cpu: 10,000 goroutines asleep for 5 s; once all have started (+ 20 ms for the
// last ones to park), the CPU the process uses during 4 s of that sleep (main sleeps
// too), % of one core.
func benchIdleCPU() {
	const n = 10000
	var wg sync.WaitGroup
	var started int64
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer wg.Done()
			atomic.AddInt64(&started, 1)
			time.Sleep(5 * time.Second)
		}()
	}
	for atomic.LoadInt64(&started) < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	c0 := cpuSeconds()
	start := time.Now()
	time.Sleep(4 * time.Second)
	used := cpuSeconds() - c0
	wall := time.Since(start).Seconds()
	wg.Wait()
	result("idle_cpu", 100*used/wall, "pct_core")
}

// pingpong_unbuf: a driver sends i on `ping`, an echo goroutine sends it back on `pong`.
func benchPingPong(n int) {
	ping := make(chan int)
	pong := make(chan int)
	var wg sync.WaitGroup
	sum := 0
	start := time.Now()
	wg.Add(2)
	go func() {
		defer wg.Done()
		for v := range ping {
			pong <- v
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			ping <- i
			sum += <-pong
		}
		close(ping)
	}()
	wg.Wait()
	el := time.Since(start)
	if sum != n*(n-1)/2 {
		fail("pingpong sum %d", sum)
	}
	result("pingpong_unbuf", float64(el.Nanoseconds())/float64(n), "ns/op")
}

// chan_buf1024: one producer, one consumer, capacity 1024.
func benchBuffered(n int) {
	ch := make(chan int, 1024)
	var wg sync.WaitGroup
	sum := 0
	start := time.Now()
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	go func() {
		defer wg.Done()
		for v := range ch {
			sum += v
		}
	}()
	wg.Wait()
	el := time.Since(start)
	if sum != n*(n-1)/2 {
		fail("buffered sum %d", sum)
	}
	result("chan_buf1024", float64(el.Nanoseconds())/float64(n), "ns/op")
}

// mutex_counter: 1000 goroutines x 1000 increments of one counter under one mutex.
func benchMutex(tasks, iters int) {
	var mu sync.Mutex
	counter := 0 // guarded by mu
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(tasks)
	for t := 0; t < tasks; t++ {
		go func() {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if counter != tasks*iters {
		fail("mutex counter %d", counter)
	}
	result("mutex_counter", float64(el.Nanoseconds())/float64(tasks*iters), "ns/op")
}

// select4: four producers, each on its own unbuffered channel; one consumer selects over
// the four channels until it has received all n values.
func benchSelect4(n int) {
	var chans [4]chan int
	for i := range chans {
		chans[i] = make(chan int)
	}
	var wg sync.WaitGroup
	sum := 0
	start := time.Now()
	wg.Add(5)
	for p := 0; p < 4; p++ {
		go func(ch chan int, first int) {
			defer wg.Done()
			for v := first; v < n; v += 4 {
				ch <- v
			}
		}(chans[p], p)
	}
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			select {
			case v := <-chans[0]:
				sum += v
			case v := <-chans[1]:
				sum += v
			case v := <-chans[2]:
				sum += v
			case v := <-chans[3]:
				sum += v
			}
		}
	}()
	wg.Wait()
	el := time.Since(start)
	if sum != n*(n-1)/2 {
		fail("select4 sum %d", sum)
	}
	result("select4", float64(el.Nanoseconds())/float64(n), "ns/op")
}

// parked_memory: n goroutines parked on one channel; bytes of RSS per goroutine (RSS
// before spawning, RSS once all are parked + 20 ms).
func benchParked(n int) {
	before := rssBytes()
	ch := make(chan int)
	var parked int64
	var wg sync.WaitGroup
	start := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&parked, 1)
			<-ch
			wg.Done()
		}()
	}
	for atomic.LoadInt64(&parked) < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the last ones actually park
	after := rssBytes()
	spawnMs := msSince(start)
	close(ch)
	wg.Wait()
	totalMs := msSince(start)
	name := fmt.Sprintf("parked_memory_%d", n)
	result(name, float64(after-before)/float64(n), "bytes")
	fmt.Fprintf(os.Stderr, "# %s go: rss_before=%d rss_after=%d spawn+park=%.1fms total=%.1fms\n",
		name, before, after, spawnMs, totalMs)
}

// million: n goroutines each parked on one shared unbuffered channel's receive.
// million_spawn_park: from before the first spawn until all have called parked.Done(),
// just before their receive (main waits on `parked`); million_rss_parked: the RSS then;
// million_release_join: closing the channel until all have called exited.Done() after
// their receive returned; million_rss_after: the RSS then.
func benchMillion(n int) {
	const mib = 1024 * 1024
	ch := make(chan int)
	var parked, exited sync.WaitGroup
	start := time.Now()
	parked.Add(n)
	exited.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			parked.Done()
			<-ch
			exited.Done()
		}()
	}
	parked.Wait()
	spawnParkMs := msSince(start)
	rssParked := rssBytes()
	t1 := time.Now()
	close(ch)
	exited.Wait()
	releaseJoinMs := msSince(t1)
	rssAfter := rssBytes()
	result("million_spawn_park", spawnParkMs, "ms")
	result("million_rss_parked", float64(rssParked)/mib, "MiB")
	result("million_release_join", releaseJoinMs, "ms")
	result("million_rss_after", float64(rssAfter)/mib, "MiB")
}

// timers: n goroutines each sleep a pseudo-random 1-10 ms (splitmix64 seeded with the
// goroutine's number), ten times; wall time in ms and the CPU seconds it took
// (timers_cpu). Then timers_idle_cpu: n goroutines all asleep for 3 s; once all are
// parked, the process's CPU use over 300 ms, in percent of one CPU. (With 1 s sleeps the
// first sleepers woke inside the window on either side: spawning 100,000 goroutines on
// fresh stacks takes most of a second on the 2-core VM, page faults mostly.)
func benchTimers(n, rounds int) {
	var wg sync.WaitGroup
	c0 := cpuSeconds()
	start := time.Now()
	wg.Add(n)
	for g := 0; g < n; g++ {
		go func(seed uint64) {
			defer wg.Done()
			rng := splitmix64(seed)
			for r := 0; r < rounds; r++ {
				time.Sleep(time.Duration(1+rng.next()%10) * time.Millisecond)
			}
		}(uint64(g + 1))
	}
	wg.Wait()
	result("timers", msSince(start), "ms")
	result("timers_cpu", cpuSeconds()-c0, "s")

	var sleepers sync.WaitGroup
	var asleep int64
	sleepers.Add(n)
	for g := 0; g < n; g++ {
		go func() {
			defer sleepers.Done()
			atomic.AddInt64(&asleep, 1)
			time.Sleep(3000 * time.Millisecond)
		}()
	}
	for atomic.LoadInt64(&asleep) < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the last ones actually park
	c0 = cpuSeconds()
	w0 := time.Now()
	time.Sleep(300 * time.Millisecond)
	cpu := cpuSeconds() - c0
	wall := time.Since(w0).Seconds()
	sleepers.Wait()
	result("timers_idle_cpu", 100*cpu/wall, "percent")
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: gobench <bench> [-n N]")
	}
	bench := os.Args[1]
	fs := flag.NewFlagSet(bench, flag.ExitOnError)
	n := fs.Int("n", 0, "size override (quick checks); 0: the real size")
	fs.Parse(os.Args[2:])
	if fs.NArg() > 0 || *n < 0 {
		fail("unknown argument %v", fs.Args())
	}
	def := func(d int) int {
		if *n > 0 {
			return *n
		}
		return d
	}
	switch bench {
	case "skynet":
		benchSkynet(def(1000000))
	case "spawn_join":
		benchSpawnJoin(def(1000000))
	case "yield_ping":
		benchYieldPing(def(1000000))
	case "idle_cpu":
		benchIdleCPU()
	case "pingpong_unbuf":
		benchPingPong(def(1000000))
	case "chan_buf1024":
		benchBuffered(def(10000000))
	case "mutex_counter":
		benchMutex(1000, def(1000000)/1000)
	case "select4":
		benchSelect4(def(1000000))
	case "parked_memory":
		benchParked(def(100000))
	case "million":
		benchMillion(def(1000000))
	case "timers":
		benchTimers(def(100000), 10)
	default:
		fail("unknown bench %s", bench)
	}
}
