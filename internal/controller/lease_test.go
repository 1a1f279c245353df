package controller_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/service/servicetest"
	"overcast/internal/store/sqlite"
)

// TestLeaseHandsControllersOver: two processes share a store; the one
// holding the lease runs the controllers and the other does not. When the
// holder stops renewing (its process died) the other takes over once the
// lease expires; a clean shutdown hands over at the next renewal.
func TestLeaseHandsControllersOver(t *testing.T) {
	const ttl = 9 * time.Second
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "shared.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := clock.NewFake(epoch)

	// A process that took the lease and died without releasing it.
	if held, _, err := controller.NewLease(st, "controllers", "dead", ttl, fake).Acquire(context.Background()); err != nil || !held {
		t.Fatalf("the first holder's Acquire: held %v, err %v", held, err)
	}

	var reconciles [2]atomic.Int32
	managers := make([]*controller.Manager, 2)
	cancels := make([]context.CancelFunc, 2)
	done := make([]chan struct{}, 2)
	for i, name := range []string{"replica-0", "replica-1"} {
		m := controller.NewManager(fake, nil, quiet())
		m.Every("work", time.Hour, func(context.Context) error { reconciles[i].Add(1); return nil })
		ctx, cancel := context.WithCancel(context.Background())
		managers[i], cancels[i], done[i] = m, cancel, make(chan struct{})
		go func() {
			defer close(done[i])
			m.RunLeased(ctx, controller.NewLease(st, "controllers", name, ttl, fake))
		}()
		t.Cleanup(func() { cancel(); <-done[i] })
	}
	servicetest.WaitFor(t, "both replicas waiting on the lease", func() bool { return fake.Waiters() >= 2 })
	if managers[0].Running() || managers[1].Running() {
		t.Fatal("a replica runs the controllers while the dead holder's lease has not expired")
	}

	fake.Advance(ttl)
	servicetest.WaitFor(t, "one replica taking the expired lease", func() bool {
		return managers[0].Running() != managers[1].Running()
	})
	leader := 0
	if managers[1].Running() {
		leader = 1
	}
	other := 1 - leader
	servicetest.WaitFor(t, "the leader's pass", func() bool { return reconciles[leader].Load() == 1 })

	// Renewals keep the lease where it is.
	for range 4 {
		fake.Advance(ttl / 3)
		servicetest.WaitFor(t, "both replicas waiting again", func() bool { return fake.Waiters() >= 2 })
		if !managers[leader].Running() || managers[other].Running() {
			t.Fatalf("after a renewal: leader running %v, other running %v", managers[leader].Running(), managers[other].Running())
		}
	}

	// The leader shuts down cleanly: the other takes over at its next look.
	cancels[leader]()
	<-done[leader]
	// Time passes while we wait: the other replica looks again within a
	// third of the lease's time, whenever its timer was set.
	servicetest.WaitFor(t, "the other replica taking over", func() bool {
		fake.Advance(time.Second)
		return managers[other].Running()
	})
	servicetest.WaitFor(t, "its pass", func() bool { return reconciles[other].Load() == 1 })
	if reconciles[leader].Load() != 1 {
		t.Errorf("the stopped leader reconciled %d times, want 1", reconciles[leader].Load())
	}
}
