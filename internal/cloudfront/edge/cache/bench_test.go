package cache

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchEntry is a 1 KB response with the headers an origin typically
// sends, or none.
func benchEntry(path string, headers bool) *Entry {
	meta := Entry{Status: http.StatusOK, Stored: time.Now(), TTL: time.Hour, Path: path}
	if headers {
		meta.Header = http.Header{
			"Content-Type":  {"text/html; charset=utf-8"},
			"Etag":          {`"5d8c72a5edda8d6a"`},
			"Last-Modified": {"Mon, 07 Dec 2026 05:00:00 GMT"},
			"Cache-Control": {"max-age=3600"},
		}
	}
	// Not zeros: fresh zero pages would not count in RSS.
	return NewEntry(meta, bytes.Repeat([]byte{'x'}, 1024))
}

// benchKey is a cache key shaped as the edge's: host, path, then the policy's
// parts.
func benchKey(i int) string {
	return "d111111abcdef8.cloudfront.net/objects/" + strconv.Itoa(i) + ".html|gzip"
}

// fill puts n 1 KB entries.
func fill(b *testing.B, n int, headers bool) *Cache {
	b.Helper()
	c, err := New(Config{MaxMemory: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		c.Put(benchKey(i), benchEntry("/objects/"+strconv.Itoa(i)+".html", headers))
	}
	return c
}

// BenchmarkGetHitParallel is a hot 1 KB hit from every core: what a POP
// does under wrk's 64 connections, bar the HTTP.
func BenchmarkGetHitParallel(b *testing.B) {
	c := fill(b, 1000, true)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := benchKey(7)
		for pb.Next() {
			e, ok := c.Get(key)
			if !ok {
				b.Fatal("miss")
			}
			e.WriteTo(io.Discard)
		}
	})
}

// BenchmarkGetSpreadParallel hits 1,000 keys from every core.
func BenchmarkGetSpreadParallel(b *testing.B) {
	c := fill(b, 1000, true)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(keys[i%len(keys)]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}

// BenchmarkPut stores 1 KB entries into a cache bounded at 10,000 of them,
// so that most Puts also evict.
func BenchmarkPut(b *testing.B) {
	c, err := New(Config{MaxMemory: 10_000 * 1200})
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]*Entry, 1000)
	keys := make([]string, 100_000)
	for i := range entries {
		entries[i] = benchEntry("/objects/"+strconv.Itoa(i), true)
	}
	for i := range keys {
		keys[i] = benchKey(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Put(keys[i%len(keys)], entries[i%len(entries)])
	}
}

// BenchmarkInvalidate100k measures an invalidation over 100,000 cached
// entries: a wildcard that drops them all, and an exact path that drops one
// (both scan every entry). CloudFront's promise here is 1 s.
func BenchmarkInvalidate100k(b *testing.B) {
	for _, path := range []string{"/*", "/objects/99999.html"} {
		b.Run(strings.Trim(path, "/*"), func(b *testing.B) {
			c := fill(b, 100_000, true)
			for b.Loop() {
				b.StopTimer()
				for i := range 100_000 {
					if _, ok := c.Get(benchKey(i)); !ok {
						c.Put(benchKey(i), benchEntry("/objects/"+strconv.Itoa(i)+".html", true))
					}
				}
				b.StartTimer()
				if n := c.Invalidate(path); n == 0 {
					b.Fatal("dropped nothing")
				}
			}
		})
	}
}

// BenchmarkMemory100k1KB reports what 100,000 cached 1 KB entries cost
// against their payload (bodies), in RSS and in live heap: with an origin's
// four usual headers, and with none to show what the header map costs.
func BenchmarkMemory100k1KB(b *testing.B) {
	const n, payload = 100_000, 100_000 * 1024
	for _, headers := range []bool{true, false} {
		b.Run("headers="+strconv.FormatBool(headers), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				debug.FreeOSMemory()
				rss0, heap0 := rss(b), heapInUse()
				b.StartTimer()
				c := fill(b, n, headers)
				b.StopTimer()
				runtime.GC()
				debug.FreeOSMemory()
				b.ReportMetric(float64(rss(b)-rss0)/payload, "rss/payload")
				b.ReportMetric(float64(heapInUse()-heap0)/payload, "heap/payload")
				if got := c.Stats().Entries; got != n {
					b.Fatalf("got %d entries, want %d", got, n)
				}
				runtime.KeepAlive(c)
				b.StartTimer()
			}
		})
	}
}

func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// rss reads the process's resident set from /proc.
func rss(b *testing.B) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
