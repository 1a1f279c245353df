package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Fake is a Clock that moves only when told. Advance fires, in time order,
// every timer and ticker that falls due, so a test moves the clock by a day
// and sees a day's worth of work scheduled, without sleeping. Waiters
// reports how many timers are pending, so a test can wait until the code
// under test is blocked on the clock before it advances it.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
	changed chan struct{} // closed and replaced whenever waiters change
}

// NewFake returns a fake clock reading t.
func NewFake(t time.Time) *Fake {
	return &Fake{now: t, changed: make(chan struct{})}
}

var _ Clock = (*Fake)(nil)

// fakeWaiter is a pending timer, or a ticker's next tick.
type fakeWaiter struct {
	clock  *Fake
	c      chan time.Time
	at     time.Time
	period time.Duration // > 0 for tickers
	active bool
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when the clock reaches now+d.
func (f *Fake) NewTimer(d time.Duration) Timer {
	w := &fakeWaiter{clock: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	f.schedule(w, d)
	f.mu.Unlock()
	return (*fakeTimer)(w)
}

// NewTicker returns a ticker that fires every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	w := &fakeWaiter{clock: f, c: make(chan time.Time, 1), period: d}
	f.mu.Lock()
	f.schedule(w, d)
	f.mu.Unlock()
	return (*fakeTicker)(w)
}

// Advance moves the clock forward by d, firing what falls due on the way,
// each at its own time. A timer due now (d <= 0) fires too.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.advanceTo(f.now.Add(d))
	f.mu.Unlock()
}

// Set moves the clock to t; moving it backwards fires nothing.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	if t.Before(f.now) {
		f.now = t
	} else {
		f.advanceTo(t)
	}
	f.mu.Unlock()
}

// Waiters reports how many timers and tickers are pending.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// BlockUntil waits until at least n timers and tickers are pending, or ctx
// ends: the moment the code under test has gone back to waiting on the
// clock, when advancing it cannot race with that code.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		ok, changed := len(f.waiters) >= n, f.changed
		f.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// advanceTo fires, in order, every waiter due up to t. f.mu is held.
func (f *Fake) advanceTo(t time.Time) {
	for len(f.waiters) > 0 && !f.waiters[0].at.After(t) {
		w := f.waiters[0]
		f.now = w.at
		f.remove(w)
		select {
		case w.c <- w.at:
		default: // the receiver has not taken the last tick; drop this one
		}
		if w.period > 0 {
			f.schedule(w, w.period)
		}
	}
	f.now = t
}

// schedule (re)arms w to fire d from now. f.mu is held.
func (f *Fake) schedule(w *fakeWaiter, d time.Duration) {
	if w.active {
		f.remove(w)
	}
	w.at, w.active = f.now.Add(d), true
	i := sort.Search(len(f.waiters), func(i int) bool { return f.waiters[i].at.After(w.at) })
	f.waiters = append(f.waiters, nil)
	copy(f.waiters[i+1:], f.waiters[i:])
	f.waiters[i] = w
	f.signal()
	if d <= 0 {
		f.advanceTo(f.now)
	}
}

// remove disarms w. f.mu is held.
func (f *Fake) remove(w *fakeWaiter) bool {
	for i, x := range f.waiters {
		if x == w {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			w.active = false
			f.signal()
			return true
		}
	}
	return false
}

func (f *Fake) signal() {
	close(f.changed)
	f.changed = make(chan struct{})
}

type fakeTimer fakeWaiter

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.remove((*fakeWaiter)(t))
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	w := (*fakeWaiter)(t)
	was := w.active
	f.schedule(w, d)
	return was
}

type fakeTicker fakeWaiter

func (t *fakeTicker) C() <-chan time.Time { return t.c }

func (t *fakeTicker) Stop() {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	f.remove((*fakeWaiter)(t))
}

func (t *fakeTicker) Reset(d time.Duration) {
	if d <= 0 {
		panic("clock: non-positive interval for Ticker.Reset")
	}
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	w := (*fakeWaiter)(t)
	w.period = d
	f.schedule(w, d)
}
