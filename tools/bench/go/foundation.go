// foundation.go — the foundation group's Go twins (issue 2) of ../rt/foundation.cpp:
// skynet, spawn_join, yield_ping, idle_cpu, with the same workloads, sizes and timed
// regions, and their registry entries.
package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

var foundation = []bench{
	{"skynet", "foundation", 1000000, "-", "a 10-ary tree of goroutines summing N leaves; ms", benchSkynet},
	{"spawn_join", "foundation", 1000000, "-", "N goroutines bump a counter, one WaitGroup; ns/op", benchSpawnJoin},
	{"yield_ping", "foundation", 1000000, "-", "two goroutines Gosched N times each; ns/op", benchYieldPing},
	{"idle_cpu", "foundation", 0, "-", "CPU while 10,000 goroutines sleep 5 s; percent", benchIdleCPU},
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

// idle_cpu: 10,000 goroutines asleep for 5 s; the CPU the process uses during 4 s of that
// sleep.
func benchIdleCPU(int) {
	result("idle_cpu", idleCPUPercent(10000, 5*time.Second, 4*time.Second), "percent")
}

// idleCPUPercent: `sleepers` goroutines each asleep for `sleep`; once all have started
// (+ 20 ms for the last ones to park), the CPU the process uses (user + system, all
// threads) during `window` of that sleep, in percent of one core. The caller sleeps too;
// it returns after every sleeper has woken. idle_cpu's and timers_idle_cpu's, as
// ../rt/groups.hpp's idle_cpu_percent.
func idleCPUPercent(sleepers int, sleep, window time.Duration) float64 {
	var wg sync.WaitGroup
	var started int64
	wg.Add(sleepers)
	for i := 0; i < sleepers; i++ {
		go func() {
			defer wg.Done()
			atomic.AddInt64(&started, 1)
			time.Sleep(sleep)
		}()
	}
	for atomic.LoadInt64(&started) < int64(sleepers) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the last ones actually park
	c0 := cpuSeconds()
	start := time.Now()
	time.Sleep(window)
	used := cpuSeconds() - c0
	wall := time.Since(start).Seconds()
	wg.Wait()
	return 100 * used / wall
}
