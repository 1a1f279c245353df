// Command loadgen is the open-loop load generator of the CDN benchmark:
// wrk keeps a fixed number of requests in flight, so its latencies hide
// how long requests would have queued; at a fixed rate they cannot.
//
//	loadgen rate  URL HOST REQS_PER_SEC SECONDS CONNECTIONS   latency at a fixed rate, from each request's due time
//	loadgen burst URL HOST N                                 N requests at once, each on its own connection
//
// It prints one JSON object.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: loadgen rate URL HOST RPS SECONDS CONNECTIONS | loadgen burst URL HOST N")
		os.Exit(2)
	}
	url, host := os.Args[2], os.Args[3]
	switch os.Args[1] {
	case "rate":
		rps, _ := strconv.Atoi(os.Args[4])
		seconds, _ := strconv.Atoi(os.Args[5])
		conns, _ := strconv.Atoi(os.Args[6])
		report(fixedRate(url, host, rps, time.Duration(seconds)*time.Second, conns))
	case "burst":
		n, _ := strconv.Atoi(os.Args[4])
		report(burst(url, host, n))
	}
}

type result struct {
	Sent    int     `json:"sent"`
	Failed  int     `json:"failed"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
	P999Ms  float64 `json:"p999_ms"`
	MaxMs   float64 `json:"max_ms"`
	Elapsed float64 `json:"elapsed_s"`
}

func report(r result) { json.NewEncoder(os.Stdout).Encode(r) }

func get(c *http.Client, url, host string) bool {
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200
}

// fixedRate sends rps requests a second, each due at its own instant, over
// a pool of conns keep-alive connections, and times each from when it was
// due: a request that waited for a free connection counts its wait.
func fixedRate(url, host string, rps int, d time.Duration, conns int) result {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	total := int(d.Seconds() * float64(rps))
	interval := time.Second / time.Duration(rps)
	due := make(chan time.Time, total)
	var mu sync.Mutex
	var lat []time.Duration
	failed := 0
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for at := range due {
				ok := get(client, url, host)
				took := time.Since(at)
				mu.Lock()
				lat = append(lat, took)
				if !ok {
					failed++
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	for i := range total {
		at := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(at))
		due <- at
	}
	close(due)
	wg.Wait()
	return summarize(lat, failed, time.Since(start))
}

// burst sends n requests at the same moment, each on a connection of its
// own, opened beforehand: request collapsing's test.
func burst(url, host string, n int) result {
	start := make(chan struct{})
	var mu sync.Mutex
	var lat []time.Duration
	failed := 0
	var ready, wg sync.WaitGroup
	ready.Add(n)
	for range n {
		wg.Go(func() {
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			ready.Done()
			<-start
			t := time.Now()
			ok := get(client, url, host)
			mu.Lock()
			lat = append(lat, time.Since(t))
			if !ok {
				failed++
			}
			mu.Unlock()
		})
	}
	ready.Wait()
	t := time.Now()
	close(start)
	wg.Wait()
	return summarize(lat, failed, time.Since(t))
}

func summarize(lat []time.Duration, failed int, elapsed time.Duration) result {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6
	}
	return result{Sent: len(lat), Failed: failed, P50Ms: pct(0.50), P99Ms: pct(0.99), P999Ms: pct(0.999),
		MaxMs: pct(1), Elapsed: elapsed.Seconds()}
}
