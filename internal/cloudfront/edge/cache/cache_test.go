package cache

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/clock"
)

var t0 = time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)

// newCache returns a cache on a fake clock, closed when the test ends.
func newCache(t testing.TB, cfg Config) (*Cache, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	cfg.Now = clk.Now
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = 1 << 30
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c, clk
}

// entry returns an entry for path stored at t0 with the given TTL and a
// body of size bytes.
func entry(path string, ttl time.Duration, size int) *Entry {
	return NewEntry(Entry{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/plain"}},
		Stored: t0,
		TTL:    ttl,
		Path:   path,
	}, bytes.Repeat([]byte{'x'}, size))
}

// body reads e's whole body through WriteTo.
func body(t testing.TB, e *Entry) string {
	t.Helper()
	var b bytes.Buffer
	n, err := e.WriteTo(&b)
	if err != nil || n != e.Size {
		t.Fatalf("WriteTo: got %d, %v; want %d, nil", n, err, e.Size)
	}
	return b.String()
}

func TestGetAcrossWindows(t *testing.T) {
	type seen struct {
		Found, Fresh, StaleWhileRevalidate, StaleIfError bool
		Age                                              time.Duration
	}
	tests := []struct {
		name  string
		after time.Duration
		want  seen
	}{
		{"new", 0, seen{true, true, true, true, 0}},
		{"last fresh instant", 10*time.Second - 1, seen{true, true, true, true, 10*time.Second - 1}},
		{"expired, revalidating", 10 * time.Second, seen{true, false, true, true, 10 * time.Second}},
		{"past revalidation, stale on error", 15 * time.Second, seen{true, false, false, true, 15 * time.Second}},
		{"past every window", 30 * time.Second, seen{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clk := newCache(t, Config{})
			e := entry("/a", 10*time.Second, 10)
			e.StaleWhileRevalidate = 5 * time.Second
			e.StaleIfError = 20 * time.Second
			c.Put("k", e)
			clk.Advance(tt.after)
			var got seen
			if e, ok := c.Get("k"); ok {
				now := clk.Now()
				got = seen{true, e.Fresh(now), e.StaleWhileRevalidateOK(now), e.StaleIfErrorOK(now), e.Age(now)}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Get after %v (-want +got):\n%s", tt.after, diff)
			}
			if !tt.want.Found && c.Stats().Entries != 0 {
				t.Errorf("got %d entries after the last window, want the entry dropped", c.Stats().Entries)
			}
		})
	}
}

func TestPut(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		put       *Entry
		wantBody  string // "" = not stored
		wantStats Stats
	}{
		{
			name:      "replaces",
			put:       entry("/a", time.Minute, 3),
			wantBody:  "xxx",
			wantStats: Stats{Entries: 1, MemoryBytes: 3 + int64(len("Content-Type"+"text/plain"+"k")), Hits: 1},
		},
		{
			name:      "no time to be served drops the previous entry",
			put:       entry("/a", 0, 3),
			wantStats: Stats{Misses: 1},
		},
		{
			name:      "larger than the memory tier drops the previous entry",
			cfg:       Config{MaxMemory: 100},
			put:       entry("/a", time.Minute, 200),
			wantStats: Stats{Misses: 1},
		},
		{
			name:      "larger than the disk tier drops the previous entry",
			cfg:       Config{DiskDir: t.TempDir(), MaxDisk: 100, DiskThreshold: 10},
			put:       entry("/a", time.Minute, 200),
			wantStats: Stats{Misses: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newCache(t, tt.cfg)
			c.Put("k", entry("/a", time.Minute, 1))
			c.Put("k", tt.put)
			got := ""
			if e, ok := c.Get("k"); ok {
				got = body(t, e)
			}
			if got != tt.wantBody {
				t.Errorf("got body %q, want %q", got, tt.wantBody)
			}
			if diff := cmp.Diff(tt.wantStats, c.Stats()); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	c, _ := newCache(t, Config{})
	c.Put("k", entry("/a", time.Minute, 1))
	c.Delete("k")
	c.Delete("never cached")
	if e, ok := c.Get("k"); ok {
		t.Errorf("got %+v after Delete, want a miss", e)
	}
	if got := c.Stats(); got.Entries != 0 || got.MemoryBytes != 0 {
		t.Errorf("got %d entries of %d bytes after Delete, want none", got.Entries, got.MemoryBytes)
	}
}

func TestInvalidate(t *testing.T) {
	// Keys differ from paths as the edge's do: the cache key adds the host,
	// query strings, headers; several keys may share one path.
	cached := map[string]string{
		"a":         "/a",
		"a?v=2":     "/a",
		"a/b":       "/a/b",
		"ab":        "/ab",
		"b":         "/b",
		"A":         "/A",
		"img/x.png": "/img/x.png",
	}
	tests := []struct {
		path      string
		wantCount int
		wantLeft  []string
	}{
		{"/a", 2, []string{"A", "a/b", "ab", "b", "img/x.png"}},
		{"/a/b", 1, []string{"A", "a", "a?v=2", "ab", "b", "img/x.png"}},
		{"/a*", 4, []string{"A", "b", "img/x.png"}},
		{"/a/*", 1, []string{"A", "a", "a?v=2", "ab", "b", "img/x.png"}},
		{"/img/*.png", 0, []string{"A", "a", "a/b", "a?v=2", "ab", "b", "img/x.png"}},
		{"/*", 7, nil},
		{"/nothing", 0, []string{"A", "a", "a/b", "a?v=2", "ab", "b", "img/x.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c, _ := newCache(t, Config{})
			for key, path := range cached {
				c.Put(key, entry(path, time.Minute, 1))
			}
			if got := c.Invalidate(tt.path); got != tt.wantCount {
				t.Errorf("Invalidate(%q) = %d, want %d", tt.path, got, tt.wantCount)
			}
			var left []string
			for key := range cached {
				if _, ok := c.Get(key); ok {
					left = append(left, key)
				}
			}
			slices.Sort(left)
			if diff := cmp.Diff(tt.wantLeft, left); diff != "" {
				t.Errorf("keys left (-want +got):\n%s", diff)
			}
			if got := c.Stats().Invalidated; got != uint64(tt.wantCount) {
				t.Errorf("got Stats().Invalidated %d, want %d", got, tt.wantCount)
			}
		})
	}
}

// TestInvalidate100k drops 100,000 entries and logs how long it took
// (BenchmarkInvalidate100k measures it): CloudFront's promise is 1 s.
func TestInvalidate100k(t *testing.T) {
	const n = 100_000
	c, _ := newCache(t, Config{})
	for i := range n {
		c.Put(fmt.Sprint("k", i), entry(fmt.Sprint("/objects/", i), time.Hour, 1))
	}
	c.Put("other", entry("/other", time.Hour, 1))
	start := time.Now()
	dropped := c.Invalidate("/objects/*")
	t.Logf("invalidated %d entries in %v", dropped, time.Since(start))
	if dropped != n {
		t.Errorf("Invalidate = %d, want %d", dropped, n)
	}
	for i := range n {
		if _, ok := c.Get(fmt.Sprint("k", i)); ok {
			t.Fatalf("Get(k%d) found an invalidated entry", i)
		}
	}
	if st := c.Stats(); st.Entries != 1 {
		t.Errorf("got %d entries left, want 1", st.Entries)
	}
}

func TestEvictionKeepsMemoryWithinMax(t *testing.T) {
	const size = 1000
	cost := entry("/", time.Minute, size).headerBytes + size + int64(len("k000"))
	c, _ := newCache(t, Config{MaxMemory: 10 * cost})
	c.Put("hot", entry("/hot", time.Minute, size))
	for i := range 100 {
		c.Put(fmt.Sprintf("k%03d", i), entry("/", time.Minute, size))
		// A key read between each Put keeps its second chance.
		if _, ok := c.Get("hot"); !ok {
			t.Fatalf("the hot key was evicted after %d Puts", i+1)
		}
		if st := c.Stats(); st.MemoryBytes > 10*cost {
			t.Fatalf("after %d Puts: got %d bytes in memory, want at most %d", i+1, st.MemoryBytes, 10*cost)
		}
	}
	st := c.Stats()
	if st.Entries > 10 || st.Entries < 9 {
		t.Errorf("got %d entries, want 9 or 10", st.Entries)
	}
	if got, want := st.Evictions, uint64(101-st.Entries); got != want {
		t.Errorf("got %d evictions, want %d", got, want)
	}
	if _, ok := c.Get("k099"); !ok {
		t.Errorf("the newest entry was evicted, want it kept")
	}
}

func TestEvictionTakesExpiredEntriesFirst(t *testing.T) {
	const size = 1000
	cost := entry("/", time.Minute, size).headerBytes + size + 1
	c, clk := newCache(t, Config{MaxMemory: 3 * cost})
	c.Put("o", entry("/o", time.Second, size))
	c.Get("o") // referenced, but soon past its last window
	c.Put("b", entry("/b", time.Minute, size))
	c.Put("c", entry("/c", time.Minute, size))
	clk.Advance(2 * time.Second)
	c.Put("d", entry("/d", time.Minute, size))

	var left []string
	for _, key := range []string{"o", "b", "c", "d"} {
		if _, ok := c.Get(key); ok {
			left = append(left, key)
		}
	}
	if diff := cmp.Diff([]string{"b", "c", "d"}, left); diff != "" {
		t.Errorf("keys left (-want +got):\n%s", diff)
	}
	if got := c.Stats().Evictions; got != 1 {
		t.Errorf("got %d evictions, want 1", got)
	}
}

// diskFiles lists the files of c's disk tier.
func diskFiles(t testing.TB, c *Cache) []string {
	t.Helper()
	des, err := os.ReadDir(c.diskDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestDiskTierRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, _ := newCache(t, Config{DiskDir: dir, MaxDisk: 1 << 20, DiskThreshold: 100})
	want := bytes.Repeat([]byte("0123456789"), 100)
	c.Put("small", entry("/small", time.Minute, 100))
	c.Put("large", NewEntry(Entry{Status: 200, Stored: t0, TTL: time.Minute, Path: "/large"}, want))

	st := c.Stats()
	if st.Entries != 2 || st.DiskEntries != 1 || st.DiskBytes != 1000 {
		t.Errorf("got %d entries, %d on disk with %d bytes; want 2, 1 with 1000", st.Entries, st.DiskEntries, st.DiskBytes)
	}
	if got := diskFiles(t, c); len(got) != 1 {
		t.Fatalf("got disk files %q, want one", got)
	}
	e, ok := c.Get("large")
	if !ok || !e.onDisk() {
		t.Fatalf("Get(large) = %v, %v; want an entry on disk", e, ok)
	}
	if got := body(t, e); got != string(want) {
		t.Errorf("WriteTo: got %d bytes, want the 1000 put", len(got))
	}

	// Invalidated while a viewer still holds it: the file goes, the viewer
	// reads on.
	if n := c.Invalidate("/large"); n != 1 {
		t.Fatalf("Invalidate = %d, want 1", n)
	}
	if got := diskFiles(t, c); len(got) != 0 {
		t.Errorf("got disk files %q after invalidation, want none", got)
	}
	part, err := io.ReadAll(io.NewSectionReader(e.Body(), 990, 100))
	if err != nil || string(part) != "0123456789" {
		t.Errorf("reading the dropped entry's last bytes: got %q, %v; want %q", part, err, "0123456789")
	}
	if st := c.Stats(); st.DiskBytes != 0 || st.DiskEntries != 0 {
		t.Errorf("got %d disk entries of %d bytes, want none", st.DiskEntries, st.DiskBytes)
	}

	c.Put("large", NewEntry(Entry{Stored: t0, TTL: time.Minute}, want))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.diskDir); !os.IsNotExist(err) {
		t.Errorf("Stat of the disk tier after Close: got %v, want it gone", err)
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Errorf("got %d files left in DiskDir after Close, want none", len(des))
	}
}

func TestDiskTierEviction(t *testing.T) {
	c, _ := newCache(t, Config{DiskDir: t.TempDir(), MaxDisk: 2500, DiskThreshold: 100})
	for _, key := range []string{"a", "b", "c"} {
		c.Put(key, entry("/"+key, time.Minute, 1000))
	}
	c.Put("b", entry("/b", time.Minute, 1000)) // replaced: its old file goes
	st := c.Stats()
	if st.DiskEntries != 2 || st.DiskBytes != 2000 || st.Evictions != 1 {
		t.Errorf("got %d disk entries, %d bytes, %d evictions; want 2, 2000, 1", st.DiskEntries, st.DiskBytes, st.Evictions)
	}
	if got := diskFiles(t, c); len(got) != 2 {
		t.Errorf("got disk files %q, want two", got)
	}
}

func TestRenewSharesTheBody(t *testing.T) {
	large := bytes.Repeat([]byte("0123456789"), 100)
	tests := []struct {
		name          string
		disk          bool
		dropFirst     bool // the renewed entry's file has no name left to link
		wantDiskFiles int
	}{
		{name: "memory"},
		{name: "disk, linked", disk: true, wantDiskFiles: 1},
		{name: "disk, copied", disk: true, dropFirst: true, wantDiskFiles: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{}
			if tt.disk {
				cfg = Config{DiskDir: t.TempDir(), MaxDisk: 1 << 20, DiskThreshold: 100}
			}
			c, clk := newCache(t, cfg)
			c.Put("k", NewEntry(Entry{Stored: t0, TTL: time.Minute, Path: "/k"}, large))
			old, _ := c.Get("k")
			if tt.dropFirst {
				c.Delete("k")
			}
			clk.Advance(2 * time.Minute)
			c.Put("k", old.Renew(Entry{Stored: clk.Now(), TTL: time.Minute, Path: "/k", Header: http.Header{"Etag": {`"2"`}}}))

			e, ok := c.Get("k")
			if !ok || !e.Fresh(clk.Now()) || e.Header.Get("Etag") != `"2"` {
				t.Fatalf("Get after Renew = %+v, %v; want a fresh entry with the new header", e, ok)
			}
			if got := body(t, e); got != string(large) {
				t.Errorf("got a body of %d bytes, want the 1000 of the renewed entry", len(got))
			}
			if tt.disk {
				if got := diskFiles(t, c); len(got) != tt.wantDiskFiles {
					t.Errorf("got disk files %q, want %d", got, tt.wantDiskFiles)
				}
				if got := c.Stats().DiskBytes; got != 1000 {
					t.Errorf("got %d bytes on disk, want 1000", got)
				}
			}
		})
	}
}

func TestBodyReadAt(t *testing.T) {
	// Reads of n bytes at off, from a body of ten.
	type read struct {
		off     int64
		n       int
		want    string
		wantEOF bool
	}
	tests := []read{
		{0, 4, "0123", false},
		{3, 4, "3456", false},
		{6, 4, "6789", false},
		{8, 4, "89", true},
		{10, 4, "", true},
	}
	const content = "0123456789"
	for _, disk := range []bool{false, true} {
		cfg := Config{}
		if disk {
			cfg = Config{DiskDir: t.TempDir(), MaxDisk: 100, DiskThreshold: 1}
		}
		c, _ := newCache(t, cfg)
		c.Put("k", NewEntry(Entry{Stored: t0, TTL: time.Minute}, []byte(content)))
		e, _ := c.Get("k")
		if e.onDisk() != disk {
			t.Fatalf("got entry on disk %v, want %v", e.onDisk(), disk)
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%d at %d disk=%v", tt.n, tt.off, disk), func(t *testing.T) {
				p := make([]byte, tt.n)
				n, err := e.Body().ReadAt(p, tt.off)
				if got := string(p[:n]); got != tt.want || (err == io.EOF) != tt.wantEOF {
					t.Errorf("ReadAt(%d bytes, %d) = %q, %v; want %q, EOF %v", tt.n, tt.off, got, err, tt.want, tt.wantEOF)
				}
			})
		}
	}
}

func TestNewEntryCopiesHeaderAndTrimsBody(t *testing.T) {
	h := http.Header{"Etag": {`"1"`}}
	b := make([]byte, 10, 100)
	e := NewEntry(Entry{Header: h}, b)
	h.Set("Etag", `"2"`)
	if got := e.Header.Get("Etag"); got != `"1"` {
		t.Errorf("got ETag %s after the caller changed its header, want \"1\"", got)
	}
	if e.Size != 10 || cap(e.body) > 16 {
		t.Errorf("got Size %d, body capacity %d; want 10, about 10", e.Size, cap(e.body))
	}
}

// TestConcurrentUse is for the race detector: every operation at once.
func TestConcurrentUse(t *testing.T) {
	c, _ := newCache(t, Config{MaxMemory: 50_000, DiskDir: t.TempDir(), MaxDisk: 20_000, DiskThreshold: 2000})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				key := fmt.Sprintf("k%d", (i*7+g)%40)
				switch i % 6 {
				case 0:
					c.Put(key, entry("/"+key, time.Minute, 100*(i%30)))
				case 1, 2:
					if e, ok := c.Get(key); ok {
						io.Copy(io.Discard, io.NewSectionReader(e.Body(), 0, e.Size))
					}
				case 3:
					c.Fetch(t.Context(), key, func(ctx context.Context) (*Entry, error) {
						return entry("/"+key, time.Minute, 10), nil
					})
				case 4:
					c.Delete(key)
				case 5:
					if i%60 == 5 {
						c.Invalidate("/k1*")
					}
					c.Stats()
				}
			}
		})
	}
	wg.Wait()
	st := c.Stats()
	if st.MemoryBytes > 50_000 || st.DiskBytes > 20_000 {
		t.Errorf("got %d bytes in memory, %d on disk; want at most 50000, 20000", st.MemoryBytes, st.DiskBytes)
	}
}
