// gobench — the Go twins of every rt benchmark (../rtbench.cpp and ../rt/), the Go
// servers of the network benchmarks and their load clients, in one program. This file
// holds the registry, main() and the helpers every group shares (the RESULT printer,
// failing, CPU time, RSS, /proc/<pid>/status, splitmix64); the groups are foundation.go,
// coordination.go, hub.go (sentry-go) and net.go. Built by run.sh as
// GO111MODULE=off GOPATH=/usr/share/gocode go build (Debian's
// golang-github-getsentry-sentry-go-dev provides sentry-go there).
//
//	gobench list                    // the registry: `name group size tags about`, one a line
//	gobench <name> [-n N]           // run one; -n overrides its size for quick checks
//	gobench <net name> -impl I -addr A [-pid P] [-n N]  // a network client (group net)
//	gobench echo-server|http-server [addr]              // the network benchmarks' Go servers
//
// Each benchmark prints `RESULT name=<result> impl=go value=<v> unit=<u>`, the lines of
// its rt twin; the network clients print impl=<-impl>, the side of the server they load.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bench is one registry entry, the fields of rt's (../bench_util.hpp), listed alike.
type bench struct {
	name  string // the command-line name (run.sh's ONLY= name)
	group string // foundation, coordination, million, hub, net; ONLY= takes it too
	size  int    // the real size, which -n overrides; 0: the benchmark has none
	tags  string // for run.sh, "-" for none: server=<s> (a net client: run it against
	// rt_<s> from samples/<s>/ and `gobench <s>-server`)
	about string // one line
	run   func(n int)
}

// registry: every benchmark, in run.sh's order.
var registry = concat(foundation, coordination, hub, network)

func concat(groups ...[]bench) []bench {
	var all []bench
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

// The network clients' flags; the other benchmarks keep impl "go".
var (
	impl = "go" // the RESULT lines' impl=; -impl: the loaded server's side, rt or go
	addr string // -addr: the server's HOST:PORT
	pid  int    // -pid: the server's process id (the clients that measure the server)
)

func result(name string, value float64, unit string) {
	fmt.Printf("RESULT name=%s impl=%s value=%.3f unit=%s\n", name, impl, value, unit)
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
	os.Exit(1)
}

func note(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "# "+format+"\n", a...)
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

// cpuSeconds returns the user + system CPU time this process has used (all threads).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
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

// procStatus returns the fields of /proc/<pid>/status named in keys, as their first
// number (VmRSS in kB, Threads).
func procStatus(pid int, keys ...string) map[string]int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		fail("server process: %v", err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		for _, k := range keys {
			if strings.HasPrefix(line, k+":") {
				f := strings.Fields(line[len(k)+1:])
				if len(f) > 0 {
					out[k], _ = strconv.ParseInt(f[0], 10, 64)
				}
			}
		}
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			fail("/proc/%d/status has no %s", pid, k)
		}
	}
	return out
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

func main() {
	if len(os.Args) < 2 {
		fail("usage: gobench list | <benchmark> [-n N] [-impl I -addr A -pid P] | echo-server|http-server [addr]")
	}
	name := os.Args[1]
	if name == "list" {
		for _, b := range registry {
			fmt.Printf("%s %s %d %s %s\n", b.name, b.group, b.size, b.tags, b.about)
		}
		return
	}
	if serve, ok := servers[name]; ok {
		serve(os.Args[2:])
		return
	}
	for _, b := range registry {
		if b.name == name {
			runBench(b, os.Args[2:])
			return
		}
	}
	fail("unknown benchmark %s (gobench list: the benchmarks)", name)
}

// runBench parses b's flags (-n; a network client's -impl, -addr, -pid) and runs it.
func runBench(b bench, args []string) {
	fs := flag.NewFlagSet(b.name, flag.ContinueOnError)
	n := fs.Int("n", 0, "size override (quick checks); 0: the real size")
	client := b.group == "net"
	if client {
		fs.StringVar(&impl, "impl", "", "the server's side for the RESULT lines: rt or go")
		fs.StringVar(&addr, "addr", "", "the server's HOST:PORT")
		fs.IntVar(&pid, "pid", 0, "the server's process id")
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *n < 0 {
		fail("%s: unknown argument %v", b.name, fs.Args())
	}
	if client && (impl == "" || addr == "") {
		fail("%s: -impl and -addr are required", b.name)
	}
	size := b.size
	if *n > 0 {
		if size == 0 {
			fail("%s has no size to override", b.name)
		}
		size = *n
	}
	b.run(size)
}
