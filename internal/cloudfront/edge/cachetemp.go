package edge

// This file stands in for package cache (internal/cloudfront/edge/cache,
// being written on branch cf-cache) with the API that branch promises, so
// that the pipeline can be written and tested now. It is deleted when that
// branch is merged.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

type cacheConfig struct {
	MaxMemory     int64
	DiskDir       string
	MaxDisk       int64
	DiskThreshold int64
	Now           func() time.Time
}

type cacheEntry struct {
	Status               int
	Header               http.Header
	Size                 int64
	Stored               time.Time
	TTL                  time.Duration
	StaleWhileRevalidate time.Duration
	StaleIfError         time.Duration
	Path                 string
	body                 []byte
}

func newCacheEntry(meta cacheEntry, body []byte) *cacheEntry {
	e := meta
	e.body = body
	e.Size = int64(len(body))
	return &e
}

func (e *cacheEntry) Body() io.ReaderAt { return bytes.NewReader(e.body) }
func (e *cacheEntry) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(e.body)
	return int64(n), err
}
func (e *cacheEntry) Age(now time.Time) time.Duration { return now.Sub(e.Stored) }
func (e *cacheEntry) Fresh(now time.Time) bool        { return e.Age(now) < e.TTL }

type popCache struct {
	cfg     cacheConfig
	mu      sync.Mutex
	entries map[string]*cacheEntry
	flights map[string]*flight
}

type flight struct {
	done chan struct{}
	e    *cacheEntry
	err  error
}

func newCache(cfg cacheConfig) *popCache {
	return &popCache{cfg: cfg, entries: map[string]*cacheEntry{}, flights: map[string]*flight{}}
}

func (c *popCache) Get(key string) (*cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	return e, ok
}

func (c *popCache) Put(key string, e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = e
}

func (c *popCache) Delete(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

func (c *popCache) Fetch(ctx context.Context, key string, fetch func(context.Context) (*cacheEntry, error)) (*cacheEntry, bool, error) {
	c.mu.Lock()
	if f, ok := c.flights[key]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.e, true, f.err
		case <-ctx.Done():
			return nil, true, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()
	f.e, f.err = fetch(ctx)
	c.mu.Lock()
	delete(c.flights, key)
	if f.err == nil && f.e.TTL+f.e.StaleWhileRevalidate+f.e.StaleIfError > 0 {
		c.entries[key] = f.e
	}
	c.mu.Unlock()
	close(f.done)
	return f.e, false, f.err
}

func (c *popCache) Invalidate(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	prefix, wild := strings.CutSuffix(path, "*")
	for k, e := range c.entries {
		if e.Path == path || wild && strings.HasPrefix(e.Path, prefix) {
			delete(c.entries, k)
			n++
		}
	}
	return n
}
