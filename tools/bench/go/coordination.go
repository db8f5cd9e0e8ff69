// coordination.go — the coordination group's Go twins (issue 3) and the million bench, of
// ../rt/coordination.cpp: pingpong_unbuf, chan_buf1024, mutex_counter, select4,
// parked_memory(_1m), timers, million, with the same workloads, sizes, capacities, random
// numbers and timed regions, and their registry entries.
package main

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

var coordination = []bench{
	{"pingpong_unbuf", "coordination", 1000000, "-", "N round trips over two unbuffered channels; ns/op", benchPingPong},
	{"chan_buf1024", "coordination", 10000000, "-", "N items, one producer, one consumer, capacity 1024; ns/op", benchBuffered},
	{"mutex_counter", "coordination", 1000000, "-", "N increments by 1000 goroutines under one mutex; ns/op",
		func(n int) { benchMutex(1000, n/1000) }},
	{"select4", "coordination", 1000000, "-", "N values from 4 producers, one consumer selecting; ns/op", benchSelect4},
	{"parked_memory", "coordination", 100000, "-", "RSS per goroutine, N parked on one channel; bytes", benchParked},
	{"parked_memory_1m", "coordination", 1000000, "-", "parked_memory with 1,000,000; bytes", benchParked},
	{"timers", "coordination", 100000, "-", "N goroutines sleep 10 random 1-10 ms; ms, s (cpu), percent (idle)",
		func(n int) { benchTimers(n, 10) }},
	{"million", "million", 1000000, "-", "N goroutines parked on one channel, then released; ms, MiB", benchMillion},
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
	perOp("pingpong_unbuf", start, n, sum)
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
	perOp("chan_buf1024", start, n, sum)
}

// perOp checks that the n values a channel benchmark moved, 0..n-1, arrived once each (their
// sum), and reports the time since start per value.
func perOp(name string, start time.Time, n, sum int) {
	el := time.Since(start)
	if sum != n*(n-1)/2 {
		fail("%s sum %d, want %d", name, sum, n*(n-1)/2)
	}
	result(name, float64(el.Nanoseconds())/float64(n), "ns/op")
}

// mutex_counter: 1000 goroutines x n/1000 increments of one counter under one mutex.
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
	perOp("select4", start, n, sum)
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

	result("timers_idle_cpu", idleCPUPercent(n, 3000*time.Millisecond, 300*time.Millisecond), "percent")
}
