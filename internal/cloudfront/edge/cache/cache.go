// Package cache is the cache store of one CloudFront point of presence: a
// memory tier bounded in bytes with cost-based eviction, a disk tier for
// large bodies, request collapsing and invalidation.
//
// The edge decides what is cacheable, under which key and for how long; the
// cache stores, serves and forgets. A hit takes a shard's read lock and
// allocates nothing.
package cache

import (
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config sizes one point of presence's cache.
type Config struct {
	MaxMemory     int64  // bytes of bodies+headers kept in memory; cost-based eviction beyond it; 0 keeps nothing
	DiskDir       string // "" = no disk tier
	MaxDisk       int64  // bytes on disk
	DiskThreshold int64  // bodies larger than this go to the disk tier (e.g. 1 MiB)
	Now           func() time.Time

	// FetchTimeout bounds one collapsed fetch, which outlives the viewers
	// waiting on it; 0 leaves the bound to the fetch itself (the origin's
	// timeouts).
	FetchTimeout time.Duration
}

// shardCount spreads keys over this many locks; a power of two.
const shardCount = 64

var errNegativeOffset = errors.New("cache: negative offset")

// Cache is the cache store of one point of presence. It is safe for
// concurrent use.
type Cache struct {
	cfg    Config
	seed   maphash.Seed
	shards [shardCount]shard
	memory tier
	disk   tier
	// diskDir is the directory this cache made inside cfg.DiskDir, so that
	// several caches may share one DiskDir and Close removes only its own.
	diskDir string
	diskSeq atomic.Uint64
	closed  atomic.Bool // Put stores nothing once Close has begun

	// invalidations counts Invalidate calls: a collapsed fetch that began
	// before one does not store what it fetched, which may predate the
	// change the invalidation announced.
	invalidations atomic.Uint64
	fetches       atomic.Uint64
	collapsed     atomic.Uint64
	invalidated   atomic.Uint64
	expired       atomic.Uint64
}

// shard is one lock's share of the keys, padded so that two shards' locks
// do not share a cache line.
type shard struct {
	mu      sync.RWMutex
	items   map[string]*item
	flights map[string]*flight // guarded by mu: see Fetch
	hits    atomic.Uint64
	misses  atomic.Uint64
	_       [64]byte
}

// New returns an empty cache. With a DiskDir it makes its own directory
// inside it, which Close removes.
func New(cfg Config) (*Cache, error) {
	if cfg.MaxMemory < 0 || cfg.MaxDisk < 0 || cfg.DiskThreshold < 0 {
		return nil, fmt.Errorf("cache: negative size in %+v", cfg)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Cache{cfg: cfg, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].items = make(map[string]*item)
		c.shards[i].flights = make(map[string]*flight)
	}
	c.memory.max = cfg.MaxMemory
	c.disk.max = cfg.MaxDisk
	if cfg.DiskDir != "" {
		if err := os.MkdirAll(cfg.DiskDir, 0o700); err != nil {
			return nil, fmt.Errorf("cache: disk tier: %w", err)
		}
		dir, err := os.MkdirTemp(cfg.DiskDir, "pop-")
		if err != nil {
			return nil, fmt.Errorf("cache: disk tier: %w", err)
		}
		c.diskDir = dir
		c.disk.release = releaseFile
	}
	return c, nil
}

// Close drops every entry and removes the disk tier's files. Entries still
// held by readers stay readable.
func (c *Cache) Close() error {
	c.closed.Store(true)
	c.dropIf(func(*item) bool { return true })
	if c.diskDir == "" {
		return nil
	}
	return os.RemoveAll(c.diskDir)
}

func (c *Cache) shardFor(key string) *shard {
	return &c.shards[maphash.String(c.seed, key)&(shardCount-1)]
}

// Get returns the entry cached under key. It also returns an expired entry
// while one of its stale windows is open; the caller checks Fresh. An entry
// past all its windows is never returned, and dropped.
func (c *Cache) Get(key string) (*Entry, bool) {
	return c.GetAt(key, c.cfg.Now())
}

// GetAt is Get at the time now, for a caller that already has it for Age
// and Fresh: reading the clock can cost as much as the rest of a hit.
func (c *Cache) GetAt(key string, now time.Time) (*Entry, bool) {
	s := c.shardFor(key)
	s.mu.RLock()
	it := s.items[key]
	s.mu.RUnlock()
	if it == nil {
		s.misses.Add(1)
		return nil, false
	}
	if now.UnixNano() >= it.until {
		c.expired.Add(1)
		c.drop(s, it)
		s.misses.Add(1)
		return nil, false
	}
	if !it.referenced.Load() {
		it.referenced.Store(true)
	}
	s.hits.Add(1)
	return it.entry, true
}

// Put caches e under key, replacing what was there. An entry with no time
// left to be served, or larger than its tier, is not stored; it still
// replaces (drops) the key's previous entry, since the origin's newest
// answer is that one.
func (c *Cache) Put(key string, e *Entry) {
	if e == nil {
		return
	}
	it, err := c.newItem(key, e)
	if err != nil || it == nil {
		c.Delete(key)
		return
	}
	s := c.shardFor(key)
	s.mu.Lock()
	old := s.items[key]
	s.items[key] = it
	s.mu.Unlock()
	if old != nil {
		old.tier.remove(old)
	}
	for _, v := range it.tier.link(it, c.cfg.Now().UnixNano()) {
		c.unmap(v)
	}
}

// newItem places e in a tier, writing its body to the disk tier when it is
// large. It returns nil when e is not to be stored.
func (c *Cache) newItem(key string, e *Entry) (*item, error) {
	until := e.usefulUntil()
	if c.closed.Load() || !c.cfg.Now().Before(until) {
		return nil, nil
	}
	it := &item{key: key, entry: e, until: until.UnixNano()}
	if e.onDisk() || (c.diskDir != "" && e.Size > c.cfg.DiskThreshold) {
		if c.diskDir == "" || e.Size > c.disk.max {
			return nil, nil
		}
		stored, err := c.writeToDisk(e)
		if err != nil {
			return nil, err
		}
		it.entry, it.cost, it.tier = stored, e.Size, &c.disk
		return it, nil
	}
	it.cost = e.Size + e.headerBytes + int64(len(key))
	if it.cost > c.memory.max {
		return nil, nil
	}
	it.tier = &c.memory
	return it, nil
}

// Delete drops the entry cached under key, if any.
func (c *Cache) Delete(key string) {
	s := c.shardFor(key)
	s.mu.Lock()
	it := s.items[key]
	delete(s.items, key)
	s.mu.Unlock()
	if it != nil {
		it.tier.remove(it)
	}
}

// drop removes it from s and its tier, unless a Put has replaced it.
func (c *Cache) drop(s *shard, it *item) {
	s.mu.Lock()
	if s.items[it.key] == it {
		delete(s.items, it.key)
	}
	s.mu.Unlock()
	it.tier.remove(it)
}

// unmap removes an item its tier evicted from its shard.
func (c *Cache) unmap(it *item) {
	s := c.shardFor(it.key)
	s.mu.Lock()
	if s.items[it.key] == it {
		delete(s.items, it.key)
	}
	s.mu.Unlock()
}

// Invalidate drops every entry whose Path equals path or, when path ends in
// '*', starts with what precedes the '*'. It returns the number dropped; no
// Get that begins after it returns sees one of them.
func (c *Cache) Invalidate(path string) int {
	c.invalidations.Add(1)
	match := func(it *item) bool { return it.entry.Path == path }
	if prefix, ok := strings.CutSuffix(path, "*"); ok {
		match = func(it *item) bool { return strings.HasPrefix(it.entry.Path, prefix) }
	}
	n := c.dropIf(match)
	c.invalidated.Add(uint64(n))
	return n
}

// dropIf drops every entry for which match is true, a shard at a time, and
// returns how many.
func (c *Cache) dropIf(match func(*item) bool) int {
	var dropped []*item
	total := 0
	for i := range c.shards {
		s := &c.shards[i]
		dropped = dropped[:0]
		s.mu.Lock()
		for key, it := range s.items {
			if match(it) {
				delete(s.items, key)
				dropped = append(dropped, it)
			}
		}
		s.mu.Unlock()
		c.memory.removeAll(dropped)
		c.disk.removeAll(dropped)
		total += len(dropped)
	}
	return total
}

// Stats are a cache's figures since New.
type Stats struct {
	Entries     int    // entries in both tiers
	DiskEntries int    // of which in the disk tier
	MemoryBytes int64  // the memory tier's cost: bodies, headers and keys
	DiskBytes   int64  // bodies in the disk tier
	Hits        uint64 // Gets that found an entry (fresh or stale)
	Misses      uint64 // Gets that did not
	Evictions   uint64 // entries dropped to stay within MaxMemory or MaxDisk
	Expired     uint64 // entries dropped because all their windows had ended
	Invalidated uint64 // entries dropped by Invalidate
	Fetches     uint64 // fetch functions Fetch and Refresh ran
	Collapsed   uint64 // Fetch callers served by another caller's fetch
}

// Stats returns the cache's figures.
func (c *Cache) Stats() Stats {
	var st Stats
	memEntries, memBytes, memEvictions := c.memory.usage()
	diskEntries, diskBytes, diskEvictions := c.disk.usage()
	st.Entries = memEntries + diskEntries
	st.DiskEntries = diskEntries
	st.MemoryBytes, st.DiskBytes = memBytes, diskBytes
	st.Evictions = memEvictions + diskEvictions
	for i := range c.shards {
		st.Hits += c.shards[i].hits.Load()
		st.Misses += c.shards[i].misses.Load()
	}
	st.Expired = c.expired.Load()
	st.Invalidated = c.invalidated.Load()
	st.Fetches = c.fetches.Load()
	st.Collapsed = c.collapsed.Load()
	return st
}
