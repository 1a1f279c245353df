package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	"overcast/internal/clock"
	"overcast/internal/store"
)

// leaseTable holds the leases of the processes that share a store.
const leaseTable = "controller-leases"

// Lease is a named right that one holder at a time has among the overcast
// processes sharing a store: the one holding the controllers' lease runs
// them, so that every desired state is reconciled by one process at a time
// however many serve the API. A holder keeps it by renewing it before it
// expires; one that stops renewing (its process was killed) loses it when
// it expires, and another takes it.
//
// It lives in the store rather than in a database's own locks (PostgreSQL
// advisory locks) so that it works on every store the same way, and
// renewals are ordinary transactions: a store that is unreachable is a
// lease that cannot be renewed.
type Lease struct {
	store  store.Store
	name   string
	holder string
	ttl    time.Duration
	clock  clock.Clock
}

type leaseRecord struct {
	Holder  string    `json:"holder"`
	Expires time.Time `json:"expires"`
}

// NewLease is the lease name in s for holder (unique per process), held
// for ttl from each renewal.
func NewLease(s store.Store, name, holder string, ttl time.Duration, c clock.Clock) *Lease {
	return &Lease{store: s, name: name, holder: holder, ttl: ttl, clock: c}
}

// Acquire takes the lease when it is free or expired, or renews it when
// the holder has it. It reports whether the holder has it, and until when:
// a holder must stop acting on the lease before then unless it renews.
func (l *Lease) Acquire(ctx context.Context) (held bool, until time.Time, err error) {
	err = store.UpdateRetry(ctx, l.store, 3, func(tx store.Tx) error {
		var cur leaseRecord
		version, err := store.GetJSON(tx, leaseTable, l.name, &cur)
		switch {
		case errors.Is(err, store.ErrNotFound):
			version = 0
		case err != nil:
			return err
		}
		now := l.clock.Now()
		if version != 0 && cur.Holder != l.holder && now.Before(cur.Expires) {
			held, until = false, cur.Expires
			return nil
		}
		until = now.Add(l.ttl)
		if _, err := store.PutJSON(tx, leaseTable, l.name, leaseRecord{Holder: l.holder, Expires: until}, version); err != nil {
			return err
		}
		held = true
		return nil
	})
	return held, until, err
}

// Release gives the lease up at once, if the holder has it, so that
// another process need not wait for it to expire (a clean shutdown).
func (l *Lease) Release(ctx context.Context) error {
	return store.UpdateRetry(ctx, l.store, 3, func(tx store.Tx) error {
		var cur leaseRecord
		version, err := store.GetJSON(tx, leaseTable, l.name, &cur)
		if errors.Is(err, store.ErrNotFound) || (err == nil && cur.Holder != l.holder) {
			return nil
		}
		if err != nil {
			return err
		}
		return tx.Delete(leaseTable, l.name, version)
	})
}

// RunLeased runs the manager's controllers only while the holder has l:
// it starts them when it takes the lease, renews it every third of its
// time to live, and stops them when a renewal fails or is refused before
// the lease runs out — before another process can take it. Local
// controllers (Config.Local) run throughout, and keys enqueued while the
// others do not run here go to the forwarder (SetForwarder). It returns
// when ctx ends, with the controllers stopped and the lease released.
func (m *Manager) RunLeased(ctx context.Context, l *Lease) {
	m.startGroup(&m.local)
	fwdCtx, stopForwarding := context.WithCancel(ctx)
	var forwarding sync.WaitGroup
	forwarding.Go(func() { m.sendForwarded(fwdCtx) })
	defer func() {
		stopForwarding()
		forwarding.Wait()
	}()
	every := l.ttl / 3
	var until time.Time
	for {
		held, next, err := l.Acquire(ctx)
		switch {
		case err == nil && held:
			until = next
			m.startGroup(&m.shared)
		case err == nil || !m.clock.Now().Before(until.Add(-every)):
			// Refused, or unable to renew with less than a third of the
			// lease left: stop before it can pass to another process.
			if err != nil {
				m.logger.Warn("controller: renewing the lease", "lease", l.name, "err", err)
			}
			m.stopGroup(&m.shared)
		}
		t := m.clock.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			m.Stop()
			release, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := l.Release(release); err != nil {
				m.logger.Warn("controller: releasing the lease", "lease", l.name, "err", err)
			}
			cancel()
			return
		case <-t.C():
		}
	}
}

// Running reports whether the manager's controllers of shared state are
// running: in a process that shares its store, whether it leads.
func (m *Manager) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.shared.running
}
