// Command testapp is the only program in the docker package's test images:
// built static and imported as a one-file root filesystem, since nothing
// can be pulled on the test machines. Its first argument picks a behaviour.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: app serve|talk|count|exit|get|copy|cat|alloc|ignore-term|sleep ...")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve": // serve ADDR: HTTP (GET /cpu?percent=N burns CPU); SIGTERM exits 3, SIGUSR1 exits 4
		serve(arg(args, 0))
	case "talk": // talk N: N lines on each stream, then exit 0
		n, _ := strconv.Atoi(arg(args, 0))
		for i := 1; i <= n; i++ {
			fmt.Printf("out %d\n", i)
			fmt.Fprintf(os.Stderr, "err %d\n", i)
			time.Sleep(20 * time.Millisecond)
		}
	case "count": // count N: lines 1 to N on stdout
		n, _ := strconv.Atoi(arg(args, 0))
		for i := 1; i <= n; i++ {
			fmt.Printf("line %d\n", i)
		}
	case "exit": // exit CODE [STDOUT [STDERR]]
		code, _ := strconv.Atoi(arg(args, 0))
		if len(args) > 1 {
			fmt.Println(args[1])
		}
		if len(args) > 2 {
			fmt.Fprintln(os.Stderr, args[2])
		}
		os.Exit(code)
	case "get": // get URL: print the body; exit 1 unless 200
		resp, err := http.Get(arg(args, 0))
		if err != nil {
			fail(err.Error())
		}
		defer resp.Body.Close()
		io.Copy(os.Stdout, resp.Body)
		if resp.StatusCode != http.StatusOK {
			os.Exit(1)
		}
	case "copy": // copy SRC DST
		b, err := os.ReadFile(arg(args, 0))
		if err != nil {
			fail(err.Error())
		}
		if err := os.WriteFile(arg(args, 1), b, 0o644); err != nil {
			fail(err.Error())
		}
	case "cat": // cat FILE
		b, err := os.ReadFile(arg(args, 0))
		if err != nil {
			fail(err.Error())
		}
		os.Stdout.Write(b)
	case "alloc": // alloc MIB: touch that much memory, then sleep
		mib, _ := strconv.Atoi(arg(args, 0))
		var keep [][]byte
		for range mib {
			b := make([]byte, 1<<20)
			for i := range b {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep), "MiB")
		time.Sleep(time.Hour)
	case "ignore-term": // run until killed
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring SIGTERM")
		time.Sleep(time.Hour)
	case "sleep":
		time.Sleep(time.Hour)
	default:
		fail("unknown command " + os.Args[1])
	}
}

func serve(addr string) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGUSR1)
	go func() {
		switch <-sigs {
		case syscall.SIGUSR1:
			os.Exit(4)
		default:
			os.Exit(3)
		}
	}()
	host, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", host)
	})
	http.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getenv(r.URL.Query().Get("name")))
	})
	http.HandleFunc("/cpu", func(w http.ResponseWriter, r *http.Request) {
		percent, _ := strconv.Atoi(r.URL.Query().Get("percent"))
		cpuLoad.Store(int64(min(max(percent, 0), 100)))
		burning.Do(func() { go burn() })
		fmt.Fprintf(w, "using %d%% of a CPU\n", cpuLoad.Load())
	})
	fmt.Println("listening on", addr)
	fmt.Fprintln(os.Stderr, "serving")
	fail(http.ListenAndServe(addr, nil).Error())
}

// cpuLoad is the share of one CPU, in percent, that burn keeps busy: the
// load a test sets with GET /cpu?percent=N to drive CPU utilization.
var (
	cpuLoad atomic.Int64
	burning sync.Once // burn runs from the first /cpu on
)

// burn spins for cpuLoad percent of every 10 ms; with no load it checks
// ten times a second, to stay idle.
func burn() {
	const slice = 10 * time.Millisecond
	for {
		busy := time.Duration(cpuLoad.Load()) * slice / 100
		if busy == 0 {
			time.Sleep(10 * slice)
			continue
		}
		for start := time.Now(); time.Since(start) < busy; {
		}
		time.Sleep(slice - busy)
	}
}

func arg(args []string, i int) string {
	if i >= len(args) {
		fail("missing argument")
	}
	return args[i]
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}
