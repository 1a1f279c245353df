package cache

import (
	"context"
	"fmt"
)

// flight is one running fetch that callers for the same key wait on.
type flight struct {
	done  chan struct{}
	entry *Entry // set before done is closed
	err   error
}

// Fetch collapses concurrent misses: for one key, fetch runs once and every
// caller gets its result. shared says whether this caller was served by
// another's fetch, or by an entry that fetch stored just before this caller
// came (CloudFront logs both as Hit).
//
// fetch runs with a context that the callers going away does not cancel, so
// one impatient viewer cannot fail the others; it keeps ctx's values and is
// bounded by Config.FetchTimeout, if set. A caller whose ctx ends stops
// waiting with ctx's error. An entry fetch returns is Put under key unless
// an invalidation ran meanwhile; an error is returned to every caller and
// cached by nobody (the edge caches errors by Put-ing an error entry).
func (c *Cache) Fetch(ctx context.Context, key string, fetch func(ctx context.Context) (*Entry, error)) (e *Entry, shared bool, err error) {
	f, leader, fresh := c.join(ctx, key, fetch, true)
	if fresh != nil {
		c.collapsed.Add(1)
		return fresh, true, nil
	}
	if !leader {
		c.collapsed.Add(1)
	}
	select {
	case <-f.done:
		return f.entry, !leader, f.err
	case <-ctx.Done():
		return nil, !leader, ctx.Err()
	}
}

// Refresh starts fetch in the background to refresh key, unless a fetch for
// key is already running, and reports whether it started one: the refresh
// of stale-while-revalidate, which serves the stale entry meanwhile. What
// fetch returns is stored as Fetch stores it.
func (c *Cache) Refresh(ctx context.Context, key string, fetch func(ctx context.Context) (*Entry, error)) bool {
	_, leader, _ := c.join(ctx, key, fetch, false)
	return leader
}

// join returns the flight running for key, starting one (leader) when there
// is none. With useFresh, a fresh entry already cached under key is
// returned instead: it closes the gap between a caller's missed Get and a
// flight that completed just before the caller's Fetch.
func (c *Cache) join(ctx context.Context, key string, fetch func(ctx context.Context) (*Entry, error), useFresh bool) (f *flight, leader bool, fresh *Entry) {
	s := c.shardFor(key)
	s.mu.Lock()
	if f := s.flights[key]; f != nil {
		s.mu.Unlock()
		return f, false, nil
	}
	if it := s.items[key]; useFresh && it != nil && it.entry.Fresh(c.cfg.Now()) {
		s.mu.Unlock()
		return nil, false, it.entry
	}
	f = &flight{done: make(chan struct{})}
	s.flights[key] = f
	s.mu.Unlock()
	c.fetches.Add(1)
	go c.run(context.WithoutCancel(ctx), s, key, f, fetch)
	return f, true, nil
}

// run runs one flight's fetch, stores its entry, and then releases the
// waiters: a caller that comes after the flight is gone finds the entry.
func (c *Cache) run(ctx context.Context, s *shard, key string, f *flight, fetch func(ctx context.Context) (*Entry, error)) {
	invalidations := c.invalidations.Load()
	if c.cfg.FetchTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.FetchTimeout)
		defer cancel()
	}
	e, err := callFetch(ctx, fetch)
	if err == nil && e != nil && c.invalidations.Load() == invalidations {
		c.Put(key, e)
	}
	s.mu.Lock()
	delete(s.flights, key)
	s.mu.Unlock()
	f.entry, f.err = e, err
	close(f.done)
}

// callFetch turns a panicking fetch into an error for its waiters: the
// fetch runs on its own goroutine, where a panic would end the process.
func callFetch(ctx context.Context, fetch func(ctx context.Context) (*Entry, error)) (e *Entry, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("cache: fetch panicked: %v", r)
		}
	}()
	return fetch(ctx)
}
