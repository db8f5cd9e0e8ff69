// Go peers of the coordination benchmarks that ../shared/peers/go/main.go lacks:
// select4 and timers (+ timers_idle_cpu). Same workloads, line by line, as rt's
// coordbench.cpp. Usage: gocoord <bench> [-n N]; prints RESULT lines.
package main

import (
	"flag"
	"fmt"
	"os"
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

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
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

// timers: n goroutines each sleep a pseudo-random 1-10 ms (splitmix64 seeded with the
// goroutine's number), ten times; wall time in ms and the CPU seconds it took
// (timers_cpu). Then timers_idle_cpu: n goroutines all asleep for 1 s; once all are
// parked, CPU use over 300 ms.
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
	result("timers", float64(time.Since(start).Nanoseconds())/1e6, "ms")
	result("timers_cpu", cpuSeconds()-c0, "s")

	var sleepers sync.WaitGroup
	var asleep int64
	sleepers.Add(n)
	for g := 0; g < n; g++ {
		go func() {
			defer sleepers.Done()
			atomic.AddInt64(&asleep, 1)
			time.Sleep(1000 * time.Millisecond)
		}()
	}
	for atomic.LoadInt64(&asleep) < int64(n) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
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
		fail("usage: gocoord <bench> [-n N]")
	}
	bench := os.Args[1]
	fs := flag.NewFlagSet(bench, flag.ExitOnError)
	n := fs.Int("n", 0, "size override")
	fs.Parse(os.Args[2:])
	def := func(d int) int {
		if *n > 0 {
			return *n
		}
		return d
	}
	switch bench {
	case "select4":
		benchSelect4(def(1000000))
	case "timers":
		benchTimers(def(100000), 10)
	default:
		fail("unknown bench %s", bench)
	}
}
