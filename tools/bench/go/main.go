// Go peers for rt benchmarks that ../shared/peers/go lacks. Usage: gobench_extra <bench>.
//   yield_ping  two goroutines each calling runtime.Gosched n times; ns per yield
//   idle_cpu    10,000 goroutines asleep for 5 s; CPU used during 4 s of it, % of one core
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func result(name string, value float64, unit string) {
	fmt.Printf("RESULT name=%s impl=go value=%.3f unit=%s\n", name, value, unit)
}

func yieldPing(n int) {
	var wg sync.WaitGroup
	wg.Add(2)
	start := time.Now()
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

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func idleCPU() {
	var wg sync.WaitGroup
	var started int64
	for i := 0; i < 10000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			atomic.AddInt64(&started, 1)
			time.Sleep(5 * time.Second)
		}()
	}
	for atomic.LoadInt64(&started) < 10000 {
		runtime.Gosched()
	}
	c0 := cpuSeconds()
	start := time.Now()
	time.Sleep(4 * time.Second)
	used := cpuSeconds() - c0
	wall := time.Since(start).Seconds()
	wg.Wait()
	result("idle_cpu", 100*used/wall, "pct_core")
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gobench_extra yield_ping|idle_cpu")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "yield_ping":
		yieldPing(1000000)
	case "idle_cpu":
		idleCPU()
	default:
		fmt.Fprintln(os.Stderr, "unknown bench", os.Args[1])
		os.Exit(2)
	}
}
