package controller_test

import (
	"context"
	"path/filepath"
	"sync"
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

// forwarder records what a standby replica forwards.
type forwarder struct {
	mu   sync.Mutex
	keys map[string][]string
}

func (f *forwarder) Forward(_ context.Context, controller string, keys []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[controller] = append(f.keys[controller], keys...)
	return nil
}

func (f *forwarder) got(controller string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys[controller]...)
}

// TestStandbyForwardsAndRunsLocalPasses: a replica waiting for the lease
// forwards the keys enqueued on it rather than reconciling them, and still
// runs the passes over its own memory; keys forwarded to it are queued for
// when it leads.
func TestStandbyForwardsAndRunsLocalPasses(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "shared.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fake := clock.NewFake(epoch)
	const ttl = 9 * time.Second
	if held, _, err := controller.NewLease(st, "controllers", "leader", ttl, fake).Acquire(context.Background()); err != nil || !held {
		t.Fatalf("the leader's Acquire: held %v, err %v", held, err)
	}

	m := controller.NewManager(fake, nil, quiet())
	var reconciled sync.Map
	work := m.AddFunc("work", func(_ context.Context, key string) (controller.Result, error) {
		reconciled.Store(key, true)
		return controller.Result{}, nil
	}, nil)
	var local atomic.Int32
	m.EveryLocal("local", time.Hour, func(context.Context) error { local.Add(1); return nil })
	fwd := &forwarder{keys: map[string][]string{}}
	m.SetForwarder(fwd)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.RunLeased(ctx, controller.NewLease(st, "controllers", "standby", ttl, fake))
	}()
	t.Cleanup(func() { cancel(); <-done })

	servicetest.WaitFor(t, "the local pass on the standby", func() bool { return local.Load() == 1 })
	work.Enqueue("task-1")
	servicetest.WaitFor(t, "task-1 forwarded", func() bool { return len(fwd.got("work")) == 1 })
	m.Enqueue("work", "task-2") // forwarded here by another replica: queued, not forwarded again
	if m.Running() {
		t.Fatal("the standby runs the shared controllers while another holds the lease")
	}

	// The leader dies; the standby takes over and reconciles both keys.
	servicetest.WaitFor(t, "the standby leading", func() bool { fake.Advance(time.Second); return m.Running() })
	servicetest.WaitFor(t, "both keys reconciled", func() bool {
		_, one := reconciled.Load("task-1")
		_, two := reconciled.Load("task-2")
		return one && two
	})
	if got := fwd.got("work"); len(got) != 1 || got[0] != "task-1" {
		t.Errorf("forwarded %v, want [task-1]", got)
	}
}

// TestResyncLeavesPeriodicPasses: Resync re-lists the controllers of
// stored keys, not periodic passes; a pass that resyncs (the leader's
// catch-up) would otherwise run itself again and again.
func TestResyncLeavesPeriodicPasses(t *testing.T) {
	fake := clock.NewFake(epoch)
	m := controller.NewManager(fake, nil, quiet())
	var passes atomic.Int32
	m.Every("resync", time.Minute, func(ctx context.Context) error { passes.Add(1); m.Resync(ctx); return nil })
	var listed atomic.Int32
	m.Add(controller.Config{Name: "stored", Keys: func(context.Context) ([]string, error) { listed.Add(1); return []string{"k"}, nil },
		Reconciler: controller.ReconcilerFunc(func(context.Context, string) (controller.Result, error) { return controller.Result{}, nil })})
	m.Start()
	t.Cleanup(m.Stop)
	servicetest.WaitFor(t, "the pass and the keys listed by it", func() bool { return passes.Load() == 1 && listed.Load() >= 2 })
	if n := passes.Load(); n != 1 {
		t.Errorf("passes: got %d, want 1", n)
	}
}
