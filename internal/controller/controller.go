// Package controller is the reconcile framework everything long-running in
// overcast runs on: ECS tasks and services, CloudFront deployments, builds,
// pipeline executions, and the sweeps and collections of the services that
// exist today (log retention, secret deletion, ECR lifecycle and garbage
// collection, the event outbox).
//
// A controller owns one kind of thing, each named by a key. Its Reconciler
// reads the thing's desired and observed state from the store, does some
// work toward the desired state, writes what it observed back, and says
// when to look again. Because the state lives in the store and not in the
// controller, a restart (even after kill -9) lists the keys again and
// resumes every thing where the store says it stands.
//
// Keys reach the work queue from four places: the controller's Keys
// function when the controller starts and on every resync, bus events it
// watches, Enqueue calls from the service after a change commits, and
// requeues the Reconciler asks for. The queue holds a key at most once,
// never reconciles one key on two workers at a time (a key added while it
// is being reconciled runs again afterwards), and retries failures with
// exponential back-off. Every wait is on the injected clock, so tests drive
// controllers with a fake clock and no sleeps.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"overcast/internal/bus"
	"overcast/internal/clock"
)

// Reconciler moves the thing a key names toward its desired state.
type Reconciler interface {
	// Reconcile returns when to look at key again (a zero Result: not
	// until something enqueues it), or an error, after which the key is
	// retried with back-off. It must be idempotent: a crash may run it
	// again for work it already did.
	Reconcile(ctx context.Context, key string) (Result, error)
}

// ReconcilerFunc adapts a function to Reconciler.
type ReconcilerFunc func(ctx context.Context, key string) (Result, error)

// Reconcile calls f.
func (f ReconcilerFunc) Reconcile(ctx context.Context, key string) (Result, error) {
	return f(ctx, key)
}

// Result is what a reconcile asks of the queue.
type Result struct {
	// Requeue reconciles the key again as soon as a worker is free, after
	// the keys already waiting: the next batch of a long piece of work.
	Requeue bool
	// RequeueAfter, when positive, reconciles the key again after this
	// long by the clock (a poll of something outside overcast).
	RequeueAfter time.Duration
	// RequeueAt, when set, reconciles the key again when the clock reaches
	// it: a deadline the store records (a secret's deletion date, the next
	// housekeeping pass). Unlike RequeueAfter it does not drift when the
	// clock moves while the reconcile runs.
	RequeueAt time.Time
}

// After is a Result that looks again after d.
func After(d time.Duration) Result { return Result{RequeueAfter: d} }

// At is a Result that looks again when the clock reaches t.
func At(t time.Time) Result { return Result{RequeueAt: t} }

// Watch turns bus events into keys to reconcile.
type Watch struct {
	Pattern bus.Pattern
	// Keys returns the keys an event concerns; nil means none.
	Keys func(ev bus.Event) []string
	// Handle, when set, handles each event itself instead of Keys (see
	// Manager.Subscribe); an error retries the event.
	Handle bus.Handler
	// Subscription names the durable subscription; "" is one derived
	// from the controller's name.
	Subscription string
}

// Config describes a controller.
type Config struct {
	// Name identifies the controller in logs, metrics and bus
	// subscriptions ("ecr-lifecycle"). Unique per Manager.
	Name       string
	Reconciler Reconciler
	// Keys lists every key that may need work, from the store. It runs
	// when the controller starts, which is how a restart resumes
	// half-done work, and then every Resync.
	Keys func(ctx context.Context) ([]string, error)
	// Resync is how often Keys runs again; 0 means only at start.
	Resync time.Duration
	Watch  []Watch
	// Workers reconcile different keys in parallel; default 1.
	Workers int
	// Local marks a controller of this process's own state (what it
	// keeps in memory) rather than of the state in the store: it runs in
	// every process sharing a store, not only in the lease holder.
	Local bool
	// MinBackoff and MaxBackoff bound the wait before a failed key is
	// retried: it doubles from MinBackoff (default 100ms) with every
	// consecutive failure, up to MaxBackoff (default 5m).
	MinBackoff, MaxBackoff time.Duration
}

// Controller runs one Config; see the package comment.
type Controller struct {
	cfg    Config
	clock  clock.Clock
	logger *slog.Logger
	stats  stats

	mu         sync.Mutex
	ready      []string             // keys to reconcile now, oldest first
	queued     map[string]bool      // keys in ready
	processing map[string]bool      // keys a worker is reconciling
	dirty      map[string]bool      // keys enqueued while processing: run again after
	delayed    map[string]time.Time // keys to enqueue at a time
	failures   map[string]int       // consecutive failures per key
	work       chan struct{}        // a key became ready
	reschedule chan struct{}        // delayed changed

	// active is set while the controller runs in this process; forward,
	// when set, carries keys enqueued while it does not to the process
	// that runs it (Manager.SetForwarder).
	active  atomic.Bool
	forward func(controller string, keys []string)
	// periodic marks a pass added by Every: Manager.Resync skips it.
	periodic bool
}

func newController(cfg Config, c clock.Clock, logger *slog.Logger) *Controller {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 5 * time.Minute
	}
	return &Controller{
		cfg: cfg, clock: c, logger: logger.With("controller", cfg.Name),
		queued: map[string]bool{}, processing: map[string]bool{}, dirty: map[string]bool{},
		delayed: map[string]time.Time{}, failures: map[string]int{},
		work: make(chan struct{}, 1), reschedule: make(chan struct{}, 1),
	}
}

// Name is the controller's name.
func (c *Controller) Name() string { return c.cfg.Name }

// Enqueue asks for key to be reconciled as soon as a worker is free. It
// never blocks; keys enqueued before the controller starts wait for it.
// In a process that shares its store and does not hold the lease, they go
// to the one that does as well.
func (c *Controller) Enqueue(keys ...string) {
	c.enqueue(keys)
	if c.forward != nil && !c.active.Load() {
		c.forward(c.cfg.Name, keys)
	}
}

// enqueue queues keys in this process only.
func (c *Controller) enqueue(keys []string) {
	c.mu.Lock()
	for _, key := range keys {
		c.enqueueLocked(key)
	}
	c.mu.Unlock()
}

func (c *Controller) enqueueLocked(key string) {
	delete(c.delayed, key)
	switch {
	case c.processing[key]:
		c.dirty[key] = true
	case !c.queued[key]:
		c.queued[key] = true
		c.ready = append(c.ready, key)
		signal(c.work)
	}
}

// EnqueueAfter asks for key to be reconciled once d has passed on the
// clock; an earlier request for the same key wins.
func (c *Controller) EnqueueAfter(key string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enqueueAfterLocked(key, d)
}

func (c *Controller) enqueueAfterLocked(key string, d time.Duration) {
	if d <= 0 {
		c.enqueueLocked(key)
		return
	}
	c.enqueueAtLocked(key, c.clock.Now().Add(d))
}

// enqueueAtLocked asks for key to be reconciled when the clock reaches
// at; an earlier request for the same key wins.
func (c *Controller) enqueueAtLocked(key string, at time.Time) {
	if c.queued[key] {
		return
	}
	if cur, ok := c.delayed[key]; ok && !at.Before(cur) {
		return
	}
	c.delayed[key] = at
	signal(c.reschedule)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// watch subscribes the controller's watches, so that the events published
// once it returns reach the queue; the returned function unsubscribes.
func (c *Controller) watch(subscribe func(name string, w Watch) (func(), error)) (func(), error) {
	var unsubscribe []func()
	stop := func() {
		for _, u := range unsubscribe {
			u()
		}
	}
	for i, w := range c.cfg.Watch {
		name := w.Subscription
		if name == "" {
			name = fmt.Sprintf("controller/%s/%d", c.cfg.Name, i)
		}
		u, err := subscribe(name, w)
		if err != nil {
			stop()
			return nil, fmt.Errorf("controller %s: watching %s: %w", c.cfg.Name, w.Pattern.Source, err)
		}
		unsubscribe = append(unsubscribe, u)
	}
	return stop, nil
}

// run works the queue until ctx ends; it returns once every goroutine it
// started has.
func (c *Controller) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { c.schedule(ctx) })
	wg.Go(func() { c.resync(ctx) })
	for range c.cfg.Workers {
		wg.Go(func() { c.worker(ctx) })
	}
	wg.Wait()
}

// resync lists the keys at start and every Resync.
func (c *Controller) resync(ctx context.Context) {
	if c.cfg.Keys == nil {
		return
	}
	var tick <-chan time.Time
	if c.cfg.Resync > 0 {
		t := c.clock.NewTicker(c.cfg.Resync)
		defer t.Stop()
		tick = t.C()
	}
	for {
		keys, err := c.cfg.Keys(ctx)
		if err != nil && ctx.Err() == nil {
			c.logger.Warn("controller: listing keys", "err", err)
		}
		c.Enqueue(keys...)
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
	}
}

// schedule moves delayed keys to the queue when they fall due.
func (c *Controller) schedule(ctx context.Context) {
	for {
		c.mu.Lock()
		now := c.clock.Now()
		var next time.Time
		for key, at := range c.delayed {
			if !at.After(now) {
				c.enqueueLocked(key)
			} else if next.IsZero() || at.Before(next) {
				next = at
			}
		}
		c.mu.Unlock()
		var timer clock.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = c.clock.NewTimer(next.Sub(now))
			fire = timer.C()
			// A fake clock advanced between reading now and making the
			// timer would fire it that much late: look again.
			if c.clock.Now().Sub(now) > time.Millisecond {
				timer.Stop()
				continue
			}
		}
		select {
		case <-ctx.Done():
		case <-c.reschedule:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (c *Controller) worker(ctx context.Context) {
	for {
		key, ok := c.next(ctx)
		if !ok {
			return
		}
		res, err := c.reconcile(ctx, key)
		if ctx.Err() != nil {
			c.done(key)
			return
		}
		c.finish(key, res, err)
	}
}

// next takes the oldest ready key, waiting for one.
func (c *Controller) next(ctx context.Context) (string, bool) {
	for {
		c.mu.Lock()
		if len(c.ready) > 0 {
			key := c.ready[0]
			c.ready = c.ready[1:]
			delete(c.queued, key)
			c.processing[key] = true
			more := len(c.ready) > 0
			c.mu.Unlock()
			if more {
				signal(c.work) // wake the next worker too
			}
			return key, true
		}
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", false
		case <-c.work:
		}
	}
}

// reconcile runs the Reconciler, turning a panic into an error to retry.
func (c *Controller) reconcile(ctx context.Context, key string) (res Result, err error) {
	start := time.Now() // latency is real time, whatever the clock says
	defer func() {
		if p := recover(); p != nil {
			c.logger.Error("controller: reconcile panicked", "key", key, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("reconcile panicked: %v", p)
		}
		c.stats.observe(time.Since(start), err)
	}()
	return c.cfg.Reconciler.Reconcile(ctx, key)
}

// finish records a reconcile's outcome and decides when key runs next.
func (c *Controller) finish(key string, res Result, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.processing, key)
	if err != nil {
		n := c.failures[key] + 1
		c.failures[key] = n
		backoff := c.backoff(n)
		if !errors.Is(err, context.Canceled) {
			c.logger.Warn("controller: reconcile failed; retrying", "key", key, "err", err, "failures", n, "retryIn", backoff)
		}
		delete(c.dirty, key)
		c.enqueueAfterLocked(key, backoff)
		return
	}
	delete(c.failures, key)
	if c.dirty[key] {
		delete(c.dirty, key)
		c.enqueueLocked(key)
		return
	}
	switch {
	case res.Requeue:
		c.enqueueLocked(key)
	case !res.RequeueAt.IsZero():
		c.enqueueAtLocked(key, res.RequeueAt)
	case res.RequeueAfter > 0:
		c.enqueueAfterLocked(key, res.RequeueAfter)
	}
}

// done forgets key after a reconcile cut short by shutdown.
func (c *Controller) done(key string) {
	c.mu.Lock()
	delete(c.processing, key)
	c.mu.Unlock()
}

func (c *Controller) backoff(failures int) time.Duration {
	d := c.cfg.MinBackoff
	for i := 1; i < failures && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.cfg.MaxBackoff)
}

// depth is how many keys wait to be reconciled now, and how many later.
func (c *Controller) depth() (ready, delayed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ready), len(c.delayed)
}
