package cache

import (
	"sync"
	"sync/atomic"
)

// item is one key's entry in the cache: in its shard's map and in its
// tier's clock ring.
type item struct {
	key   string
	entry *Entry
	until int64 // entry.usefulUntil() in Unix nanoseconds: Get's expiry check
	cost  int64 // bytes charged to the tier
	tier  *tier

	// referenced is CLOCK's second-chance bit: set by Get, cleared by the
	// hand. Get sets it only when unset, so a hot key's hits do not keep
	// writing one cache line.
	referenced atomic.Bool

	// Guarded by tier.mu.
	prev, next *item
	linked     bool // in the ring
	gone       bool // removed for good: a late link must not bring it back
}

// tier is one storage tier's budget: a CLOCK ring (a cheap approximation of
// LRU whose hits need no lock) with byte accounting.
type tier struct {
	mu        sync.Mutex
	hand      *item // next candidate for eviction; nil when empty
	entries   int
	bytes     int64
	max       int64
	evictions uint64
	// release runs, outside the lock, for every item that leaves the tier
	// for good: the disk tier unlinks the file there.
	release func(*item)
}

// link adds it to the ring just behind the hand, so a new item is the last
// the hand reaches, and returns the items evicted to stay within max. The
// caller removes them from their shards. An item past its last window
// (until <= now) goes first, whatever its second chance.
func (t *tier) link(it *item, now int64) (evicted []*item) {
	t.mu.Lock()
	if it.gone {
		t.mu.Unlock()
		return nil
	}
	if t.hand == nil {
		it.prev, it.next = it, it
		t.hand = it
	} else {
		it.next = t.hand
		it.prev = t.hand.prev
		it.prev.next = it
		t.hand.prev = it
	}
	it.linked = true
	t.entries++
	t.bytes += it.cost
	for t.bytes > t.max && t.hand != nil {
		victim := t.hand
		if victim != it && victim.until > now && victim.referenced.Load() {
			victim.referenced.Store(false)
			t.hand = victim.next
			continue
		}
		if victim == it && t.entries > 1 {
			// The newcomer is not a candidate while others are: it would
			// never be served.
			t.hand = victim.next
			continue
		}
		t.unlinkLocked(victim)
		t.evictions++
		evicted = append(evicted, victim)
	}
	t.mu.Unlock()
	if t.release != nil {
		for _, v := range evicted {
			t.release(v)
		}
	}
	return evicted
}

// remove takes it out of the tier for good.
func (t *tier) remove(it *item) {
	t.removeAll([]*item{it})
}

// removeAll takes those of items that are in t out of it for good, under
// one lock: an invalidation drops thousands at once.
func (t *tier) removeAll(items []*item) {
	var released []*item
	t.mu.Lock()
	for _, it := range items {
		if it.tier != t || it.gone {
			continue
		}
		if it.linked {
			t.unlinkLocked(it)
		}
		it.gone = true
		if t.release != nil {
			released = append(released, it)
		}
	}
	t.mu.Unlock()
	for _, it := range released {
		t.release(it)
	}
}

func (t *tier) unlinkLocked(it *item) {
	if it.next == it {
		t.hand = nil
	} else {
		it.prev.next = it.next
		it.next.prev = it.prev
		if t.hand == it {
			t.hand = it.next
		}
	}
	it.prev, it.next = nil, nil
	it.linked = false
	it.gone = true
	t.entries--
	t.bytes -= it.cost
}

// usage returns the tier's figures for Stats.
func (t *tier) usage() (entries int, bytes int64, evictions uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.entries, t.bytes, t.evictions
}
