package controller_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"overcast/internal/bus"
	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/service/servicetest"
)

var epoch = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// recorder is a Reconciler that records the keys it was called with.
type recorder struct {
	mu    sync.Mutex
	calls []string
	fn    func(ctx context.Context, key string, n int) (controller.Result, error)
}

func (r *recorder) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	r.mu.Lock()
	r.calls = append(r.calls, key)
	n := 0
	for _, c := range r.calls {
		if c == key {
			n++
		}
	}
	r.mu.Unlock()
	if r.fn == nil {
		return controller.Result{}, nil
	}
	return r.fn(ctx, key, n)
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c == key {
			n++
		}
	}
	return n
}

func start(t *testing.T, m *controller.Manager) {
	t.Helper()
	m.Start()
	t.Cleanup(m.Stop)
}

// startOne starts a manager on clk running the one controller cfg
// describes, until the test ends.
func startOne(t *testing.T, clk clock.Clock, cfg controller.Config) (*controller.Manager, *controller.Controller) {
	t.Helper()
	m := controller.NewManager(clk, nil, quiet())
	c := m.Add(cfg)
	start(t, m)
	return m, c
}

func TestEnqueueDeduplicates(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	r := &recorder{fn: func(ctx context.Context, key string, n int) (controller.Result, error) {
		if n == 1 {
			entered <- struct{}{}
			<-release
		}
		return controller.Result{}, nil
	}}
	_, c := startOne(t, clock.NewFake(epoch), controller.Config{Name: "dedup", Reconciler: r, Workers: 4})
	c.Enqueue("a")
	<-entered
	// While "a" is being reconciled, many more requests for it make one
	// more run, after the first, never a concurrent one.
	for range 100 {
		c.Enqueue("a")
	}
	close(release)
	servicetest.WaitFor(t, "the second reconcile of a", func() bool { return r.count("a") == 2 })
	c.Enqueue("b", "b", "b")
	servicetest.WaitFor(t, "b", func() bool { return r.count("b") == 1 })
	if got := r.count("a"); got != 2 {
		t.Errorf("reconciles of a: got %d, want 2", got)
	}
}

func TestNoConcurrentReconcileOfOneKey(t *testing.T) {
	var inFlight, maxInFlight atomic.Int32
	r := &recorder{fn: func(ctx context.Context, key string, n int) (controller.Result, error) {
		cur := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if cur <= m || maxInFlight.CompareAndSwap(m, cur) {
				break
			}
		}
		time.Sleep(time.Millisecond) // widen the window a second worker would need
		inFlight.Add(-1)
		return controller.Result{}, nil
	}}
	m, c := startOne(t, clock.NewFake(epoch), controller.Config{Name: "serial", Reconciler: r, Workers: 8})
	for range 200 {
		c.Enqueue("k")
	}
	servicetest.WaitFor(t, "the queue to drain", func() bool {
		return r.count("k") >= 1 && strings.Contains(metrics(m), `overcast_controller_queue_depth{controller="serial"} 0`)
	})
	if got := maxInFlight.Load(); got != 1 {
		t.Errorf("concurrent reconciles of one key: got %d, want 1", got)
	}
}

func TestRetryWithBackoff(t *testing.T) {
	fake := clock.NewFake(epoch)
	r := &recorder{fn: func(ctx context.Context, key string, n int) (controller.Result, error) {
		if n <= 3 {
			return controller.Result{}, errors.New("not yet")
		}
		return controller.Result{}, nil
	}}
	m, c := startOne(t, fake, controller.Config{Name: "retry", Reconciler: r, MinBackoff: time.Second, MaxBackoff: 3 * time.Second})
	c.Enqueue("k")
	// Back-off doubles from MinBackoff and stops at MaxBackoff.
	for i, backoff := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
		runs := i + 1
		servicetest.WaitFor(t, "a retry timer", func() bool { return r.count("k") == runs && fake.Waiters() > 0 })
		fake.Advance(backoff - time.Millisecond)
		if fake.Waiters() == 0 || r.count("k") != runs {
			t.Fatalf("failure %d: retried before %v", runs, backoff)
		}
		fake.Advance(time.Millisecond)
		servicetest.WaitFor(t, "the retry after "+backoff.String(), func() bool { return r.count("k") == runs+1 })
	}
	if got := metrics(m); !strings.Contains(got, `overcast_controller_reconcile_errors_total{controller="retry"} 3`) {
		t.Errorf("metrics do not count 3 errors:\n%s", got)
	}
}

func TestRequeueAfter(t *testing.T) {
	fake := clock.NewFake(epoch)
	r := &recorder{fn: func(ctx context.Context, key string, n int) (controller.Result, error) {
		if n < 3 {
			return controller.After(time.Hour), nil
		}
		return controller.Result{}, nil
	}}
	_, c := startOne(t, fake, controller.Config{Name: "requeue", Reconciler: r})
	c.Enqueue("k")
	servicetest.WaitFor(t, "the first reconcile", func() bool { return r.count("k") == 1 })
	servicetest.WaitFor(t, "the requeue timer", func() bool { return fake.Waiters() > 0 })
	fake.Advance(59 * time.Minute)
	fake.Advance(time.Minute)
	servicetest.WaitFor(t, "the second reconcile", func() bool { return r.count("k") == 2 })
	servicetest.WaitFor(t, "the requeue timer", func() bool { return fake.Waiters() > 0 })
	fake.Advance(time.Hour)
	servicetest.WaitFor(t, "the third reconcile", func() bool { return r.count("k") == 3 })
	fake.Advance(10 * time.Hour)
	c.Enqueue("sync") // a reconcile of another key orders the check below after any stray run
	servicetest.WaitFor(t, "sync", func() bool { return r.count("sync") == 1 })
	if got := r.count("k"); got != 3 {
		t.Errorf("reconciles: got %d, want 3 (no requeue after a zero Result)", got)
	}
}

func TestResyncListsKeys(t *testing.T) {
	fake := clock.NewFake(epoch)
	var listed atomic.Int32
	r := &recorder{}
	startOne(t, fake, controller.Config{Name: "resync", Reconciler: r, Resync: time.Minute,
		Keys: func(context.Context) ([]string, error) {
			listed.Add(1)
			return []string{"x", "y"}, nil
		}})
	servicetest.WaitFor(t, "the keys listed at start", func() bool { return r.count("x") == 1 && r.count("y") == 1 })
	servicetest.WaitFor(t, "the resync ticker", func() bool { return fake.Waiters() > 0 })
	fake.Advance(time.Minute)
	servicetest.WaitFor(t, "the resync", func() bool { return r.count("x") == 2 && r.count("y") == 2 })
	if got := listed.Load(); got != 2 {
		t.Errorf("Keys calls: got %d, want 2", got)
	}
}

func TestPanicIsRetried(t *testing.T) {
	fake := clock.NewFake(epoch)
	r := &recorder{fn: func(ctx context.Context, key string, n int) (controller.Result, error) {
		if n == 1 {
			panic("boom")
		}
		return controller.Result{}, nil
	}}
	_, c := startOne(t, fake, controller.Config{Name: "panic", Reconciler: r, MinBackoff: time.Second})
	c.Enqueue("k")
	servicetest.WaitFor(t, "the retry timer", func() bool { return r.count("k") == 1 && fake.Waiters() > 0 })
	fake.Advance(time.Second)
	servicetest.WaitFor(t, "the retry", func() bool { return r.count("k") == 2 })
}

func TestEveryAndWake(t *testing.T) {
	fake := clock.NewFake(epoch)
	var passes atomic.Int32
	m := controller.NewManager(fake, nil, quiet())
	p := m.Every("sweep", time.Hour, func(context.Context) error {
		passes.Add(1)
		return nil
	})
	start(t, m)
	servicetest.WaitFor(t, "the pass at start", func() bool { return passes.Load() == 1 })
	p.Wake()
	servicetest.WaitFor(t, "the pass on Wake", func() bool { return passes.Load() == 2 })
	servicetest.WaitFor(t, "the interval ticker", func() bool { return fake.Waiters() > 0 })
	fake.Advance(time.Hour)
	servicetest.WaitFor(t, "the pass after an hour", func() bool { return passes.Load() == 3 })
}

func TestStopCancelsAndWaits(t *testing.T) {
	entered := make(chan struct{})
	var finished atomic.Bool
	r := &recorder{fn: func(ctx context.Context, key string, n int) (controller.Result, error) {
		close(entered)
		<-ctx.Done()
		finished.Store(true)
		return controller.Result{}, ctx.Err()
	}}
	m := controller.NewManager(clock.NewFake(epoch), nil, quiet())
	c := m.Add(controller.Config{Name: "stop", Reconciler: r})
	m.Start()
	c.Enqueue("k")
	<-entered
	m.Stop()
	if !finished.Load() {
		t.Fatal("Stop returned while a reconcile was still running")
	}
	m.Stop() // a second Stop is harmless
}

func TestMetrics(t *testing.T) {
	m := controller.NewManager(clock.NewFake(epoch), nil, quiet())
	c := m.Add(controller.Config{Name: "m", Reconciler: &recorder{}})
	c.Enqueue("a", "b")
	got := metrics(m)
	for _, want := range []string{
		"# TYPE overcast_controller_queue_depth gauge",
		`overcast_controller_queue_depth{controller="m"} 2`,
		`overcast_controller_reconciles_total{controller="m"} 0`,
		"# TYPE overcast_controller_reconcile_seconds_total counter",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %q:\n%s", want, got)
		}
	}
}

func metrics(m *controller.Manager) string {
	var b strings.Builder
	m.WriteMetrics(&b)
	return b.String()
}

// TestRequeueAtIsADeadline: a deadline that passes while the reconcile
// still runs (the clock moved meanwhile) is due at once, where a relative
// requeue would drift by the time the reconcile took.
func TestRequeueAtIsADeadline(t *testing.T) {
	fake := clock.NewFake(epoch)
	r := &recorder{fn: func(ctx context.Context, key string, n int) (controller.Result, error) {
		if n == 1 {
			deadline := fake.Now().Add(30 * time.Minute)
			fake.Advance(time.Hour) // a test moving the clock while work is in progress
			return controller.At(deadline), nil
		}
		return controller.Result{}, nil
	}}
	_, c := startOne(t, fake, controller.Config{Name: "deadline", Reconciler: r})
	c.Enqueue("k")
	servicetest.WaitFor(t, "the reconcile after the deadline passed", func() bool { return r.count("k") == 2 })
}

// TestWatchFeedsTheQueue: bus events a controller watches become keys to
// reconcile, once the transaction that published them commits.
func TestWatchFeedsTheQueue(t *testing.T) {
	env := servicetest.Env(t)
	r := &recorder{}
	env.Controllers.Add(controller.Config{Name: "watch", Reconciler: r, Watch: []controller.Watch{{
		Pattern: bus.Pattern{Source: "aws.test", Types: []string{"Thing *"}},
		Keys:    func(ev bus.Event) []string { return ev.Resources },
	}}})
	env.Controllers.Start()
	// The subscription starts at the end of the outbox once the controller
	// runs; publish until the first event is seen, then the rest.
	publish := func(typ string, resources ...string) {
		t.Helper()
		if err := env.Bus.Publish(context.Background(), nil, bus.Event{Source: "aws.test", Type: typ, Resources: resources}); err != nil {
			t.Fatal(err)
		}
	}
	servicetest.WaitFor(t, "the controller to see an event", func() bool {
		publish("Thing Changed", "first")
		return r.count("first") > 0
	})
	publish("Thing Changed", "a", "b")
	publish("Other Event", "ignored")
	publish("Thing Deleted", "c")
	servicetest.WaitFor(t, "a, b and c", func() bool { return r.count("a") == 1 && r.count("b") == 1 && r.count("c") == 1 })
	if r.count("ignored") != 0 {
		t.Error("an event the pattern does not match was reconciled")
	}
}
