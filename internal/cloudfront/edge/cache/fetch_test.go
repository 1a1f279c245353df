package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"overcast/internal/service/servicetest"
)

func TestFetchCollapsesConcurrentMisses(t *testing.T) {
	const callers = 1000
	c, _ := newCache(t, Config{})
	var calls atomic.Int32
	allStarted := make(chan struct{})
	fetch := func(ctx context.Context) (*Entry, error) {
		calls.Add(1)
		<-allStarted
		return entry("/a", time.Minute, 1024), nil
	}

	var started, done sync.WaitGroup
	started.Add(callers)
	results := make([]*Entry, callers)
	shared := make([]bool, callers)
	for i := range callers {
		done.Go(func() {
			started.Done()
			e, sh, err := c.Fetch(t.Context(), "k", fetch)
			if err != nil {
				t.Errorf("Fetch: %v", err)
			}
			results[i], shared[i] = e, sh
		})
	}
	started.Wait()
	close(allStarted)
	done.Wait()

	if got := calls.Load(); got != 1 {
		t.Errorf("fetch ran %d times for %d concurrent callers, want once", got, callers)
	}
	leaders := 0
	for i, e := range results {
		if e != results[0] {
			t.Fatalf("caller %d got entry %p, caller 0 got %p; want the same", i, e, results[0])
		}
		if !shared[i] {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("got %d callers not shared, want 1 (the one whose fetch ran)", leaders)
	}
	if st := c.Stats(); st.Fetches != 1 || st.Collapsed != callers-1 {
		t.Errorf("got %d fetches, %d collapsed; want 1, %d", st.Fetches, st.Collapsed, callers-1)
	}
	if e, ok := c.Get("k"); !ok || e != results[0] {
		t.Errorf("Get after Fetch = %p, %v; want the fetched entry stored", e, ok)
	}
}

func TestFetchOutlivesTheLeadersContext(t *testing.T) {
	c, _ := newCache(t, Config{})
	release := make(chan struct{})
	fetchErr := make(chan error, 1)
	fetch := func(ctx context.Context) (*Entry, error) {
		<-release
		fetchErr <- ctx.Err()
		return entry("/a", time.Minute, 1), nil
	}
	impatient, cancel := context.WithCancel(t.Context())
	leaderDone := make(chan error, 1)
	go func() {
		_, _, err := c.Fetch(impatient, "k", fetch)
		leaderDone <- err
	}()
	servicetest.WaitFor(t, "the leader's fetch to start", func() bool { return c.Stats().Fetches == 1 })
	followerDone := make(chan *Entry, 1)
	go func() {
		e, _, err := c.Fetch(t.Context(), "k", fetch)
		if err != nil {
			t.Errorf("follower: %v", err)
		}
		followerDone <- e
	}()
	servicetest.WaitFor(t, "the follower to join", func() bool { return c.Stats().Collapsed == 1 })

	cancel()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled leader got %v, want context.Canceled", err)
	}
	close(release)
	if err := <-fetchErr; err != nil {
		t.Errorf("the fetch saw its context end: %v", err)
	}
	if e := <-followerDone; e == nil {
		t.Errorf("the follower got no entry, want the fetched one")
	}
}

func TestFetchErrorIsNotCached(t *testing.T) {
	c, _ := newCache(t, Config{})
	originDown := errors.New("origin down")
	var calls int
	fetch := func(ctx context.Context) (*Entry, error) {
		calls++
		return nil, originDown
	}
	for range 2 {
		if _, _, err := c.Fetch(t.Context(), "k", fetch); !errors.Is(err, originDown) {
			t.Errorf("Fetch: got %v, want %v", err, originDown)
		}
	}
	if calls != 2 {
		t.Errorf("fetch ran %d times for two Fetches after an error, want 2", calls)
	}
	if _, ok := c.Get("k"); ok {
		t.Errorf("Get found an entry after a failed fetch, want a miss")
	}
}

func TestFetchPanicIsAnError(t *testing.T) {
	c, _ := newCache(t, Config{})
	_, _, err := c.Fetch(t.Context(), "k", func(ctx context.Context) (*Entry, error) { panic("boom") })
	if err == nil {
		t.Fatal("got no error from a panicking fetch")
	}
	// The flight is gone: the next Fetch runs its own.
	e, _, err := c.Fetch(t.Context(), "k", func(ctx context.Context) (*Entry, error) { return entry("/a", time.Minute, 1), nil })
	if err != nil || e == nil {
		t.Errorf("Fetch after a panic = %v, %v; want an entry", e, err)
	}
}

func TestFetchStartedBeforeAnInvalidationIsNotStored(t *testing.T) {
	c, _ := newCache(t, Config{})
	release := make(chan struct{})
	done := make(chan *Entry)
	go func() {
		e, _, _ := c.Fetch(t.Context(), "k", func(ctx context.Context) (*Entry, error) {
			<-release
			return entry("/a", time.Minute, 1), nil
		})
		done <- e
	}()
	servicetest.WaitFor(t, "the fetch to start", func() bool { return c.Stats().Fetches == 1 })
	c.Invalidate("/a")
	close(release)
	if e := <-done; e == nil {
		t.Errorf("the caller got no entry, want the fetched one all the same")
	}
	if _, ok := c.Get("k"); ok {
		t.Errorf("Get found what a fetch begun before the invalidation fetched, want a miss")
	}
}

func TestFetchReturnsAFreshEntryWithoutFetching(t *testing.T) {
	c, clk := newCache(t, Config{})
	cached := entry("/a", time.Minute, 1)
	c.Put("k", cached)
	var calls int
	fetch := func(ctx context.Context) (*Entry, error) {
		calls++
		return entry("/a", time.Minute, 2), nil
	}
	if e, shared, err := c.Fetch(t.Context(), "k", fetch); e != cached || !shared || err != nil {
		t.Errorf("Fetch with a fresh entry cached = %p, %v, %v; want %p, true, nil", e, shared, err, cached)
	}
	clk.Advance(time.Minute)
	if e, shared, err := c.Fetch(t.Context(), "k", fetch); e == cached || shared || err != nil {
		t.Errorf("Fetch with an expired entry cached = %p, %v, %v; want a new entry, false, nil", e, shared, err)
	}
	if calls != 1 {
		t.Errorf("fetch ran %d times, want once (for the expired entry)", calls)
	}
}

func TestRefreshRunsOneFetchAtATime(t *testing.T) {
	c, clk := newCache(t, Config{})
	stale := entry("/a", time.Second, 1)
	stale.StaleWhileRevalidate = time.Minute
	c.Put("k", stale)
	clk.Advance(2 * time.Second)

	release := make(chan struct{})
	fetch := func(ctx context.Context) (*Entry, error) {
		<-release
		return NewEntry(Entry{Stored: clk.Now(), TTL: time.Minute, Path: "/a"}, []byte("new")), nil
	}
	if !c.Refresh(t.Context(), "k", fetch) {
		t.Fatal("the first Refresh started no fetch")
	}
	if c.Refresh(t.Context(), "k", fetch) {
		t.Error("a second Refresh started a fetch while one runs")
	}
	if e, ok := c.Get("k"); !ok || e != stale {
		t.Errorf("Get during the refresh = %p, %v; want the stale entry", e, ok)
	}
	close(release)
	servicetest.WaitFor(t, "the refreshed entry", func() bool {
		e, ok := c.Get("k")
		return ok && e.Fresh(clk.Now())
	})
	if st := c.Stats(); st.Fetches != 1 {
		t.Errorf("got %d fetches, want 1", st.Fetches)
	}
}

func TestFetchTimeout(t *testing.T) {
	c, _ := newCache(t, Config{FetchTimeout: time.Millisecond})
	_, _, err := c.Fetch(t.Context(), "k", func(ctx context.Context) (*Entry, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
}
