package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"overcast/internal/bus"
	"overcast/internal/clock"
)

// Subscriber is the part of the event bus controllers watch.
type Subscriber interface {
	Subscribe(ctx context.Context, name string, pattern bus.Pattern, h bus.Handler) (*bus.Subscription, error)
}

// Manager runs a set of controllers: services add theirs while they are
// built, and the app starts them all once every service is ready and stops
// them before the store closes.
type Manager struct {
	clock  clock.Clock
	logger *slog.Logger
	bus    Subscriber

	mu      sync.Mutex
	ctrls   []*Controller
	names   map[string]bool
	running bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// NewManager returns a manager whose controllers wait on c and watch b
// (which may be nil when no controller watches events).
func NewManager(c clock.Clock, b Subscriber, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.Default()
	}
	return &Manager{clock: c, bus: b, logger: logger, names: map[string]bool{}}
}

// Add registers a controller. Added to a running manager, it starts at
// once. A name used twice is a programming error and panics.
func (m *Manager) Add(cfg Config) *Controller {
	if cfg.Name == "" || cfg.Reconciler == nil {
		panic("controller: a controller needs a Name and a Reconciler")
	}
	c := newController(cfg, m.clock, m.logger)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.names[cfg.Name] {
		panic(fmt.Sprintf("controller: %q added twice", cfg.Name))
	}
	m.names[cfg.Name] = true
	m.ctrls = append(m.ctrls, c)
	if m.running {
		m.startLocked(c)
	}
	return c
}

// AddFunc adds a controller named name that reconciles with reconcile every
// key keys lists when it starts (how a restart resumes half-done work) and
// every key enqueued.
func (m *Manager) AddFunc(name string, reconcile ReconcilerFunc, keys func(context.Context) ([]string, error)) *Controller {
	return m.Add(Config{Name: name, Reconciler: reconcile, Keys: keys})
}

// Periodic is a controller of one key that runs a pass of work every
// interval, and when woken.
type Periodic struct{ c *Controller }

// Every adds a periodic pass: at start (so that a restart finishes what the
// last run left), every interval after, and on Wake. A pass that fails is
// retried with back-off before the next interval.
func (m *Manager) Every(name string, every time.Duration, pass func(ctx context.Context) error) *Periodic {
	c := m.Add(Config{
		Name:   name,
		Keys:   func(context.Context) ([]string, error) { return []string{name}, nil },
		Resync: every,
		Reconciler: ReconcilerFunc(func(ctx context.Context, _ string) (Result, error) {
			return Result{}, pass(ctx)
		}),
	})
	return &Periodic{c}
}

// Wake asks for a pass now, without waiting for it; a pass already asked
// for covers this one.
func (p *Periodic) Wake() { p.c.Enqueue(p.c.cfg.Name) }

// Start runs every controller added so far, and those added later, until
// Stop.
func (m *Manager) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.running {
		return
	}
	m.running = true
	m.ctx, m.cancel = context.WithCancel(context.Background())
	for _, c := range m.ctrls {
		m.startLocked(c)
	}
}

func (m *Manager) startLocked(c *Controller) {
	ctx := m.ctx
	m.wg.Go(func() {
		if err := c.run(ctx, m.subscribe(ctx, c)); err != nil {
			m.logger.Error("controller: not started", "controller", c.cfg.Name, "err", err)
		}
	})
}

// subscribe returns how c subscribes its watches.
func (m *Manager) subscribe(ctx context.Context, c *Controller) func(name string, w Watch) (func(), error) {
	return func(name string, w Watch) (func(), error) {
		if m.bus == nil {
			return nil, errors.New("no event bus")
		}
		sub, err := m.bus.Subscribe(ctx, name, w.Pattern, func(_ context.Context, ev bus.Event) error {
			c.Enqueue(w.Keys(ev)...)
			return nil
		})
		if err != nil {
			return nil, err
		}
		return sub.Close, nil
	}
}

// Stop cancels every reconcile in progress and waits for the controllers
// to return, so that the store can close after it. Stop without Start, or
// twice, does nothing.
func (m *Manager) Stop() {
	m.mu.Lock()
	cancel := m.cancel
	m.cancel, m.running = nil, false
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
}

// WriteMetrics writes every controller's queue depth and reconcile
// figures in Prometheus's text format, for /_overcast/metrics.
func (m *Manager) WriteMetrics(w io.Writer) {
	m.mu.Lock()
	ctrls := append([]*Controller(nil), m.ctrls...)
	m.mu.Unlock()
	if len(ctrls) == 0 {
		return
	}
	families := []struct {
		name, kind, help string
		value            func(c *Controller) string
	}{
		{"overcast_controller_queue_depth", "gauge", "Keys waiting for a worker.",
			func(c *Controller) string { r, _ := c.depth(); return fmt.Sprint(r) }},
		{"overcast_controller_delayed_keys", "gauge", "Keys waiting for their time (requeues and back-off).",
			func(c *Controller) string { _, d := c.depth(); return fmt.Sprint(d) }},
		{"overcast_controller_reconciles_total", "counter", "Reconciles run.",
			func(c *Controller) string { return fmt.Sprint(c.stats.count.Load()) }},
		{"overcast_controller_reconcile_errors_total", "counter", "Reconciles that failed (and were retried).",
			func(c *Controller) string { return fmt.Sprint(c.stats.errors.Load()) }},
		{"overcast_controller_reconcile_seconds_total", "counter", "Time spent reconciling.",
			func(c *Controller) string { return fmt.Sprintf("%.6f", time.Duration(c.stats.nanos.Load()).Seconds()) }},
	}
	for _, f := range families {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
		for _, c := range ctrls {
			fmt.Fprintf(w, "%s{controller=%q} %s\n", f.name, c.cfg.Name, f.value(c))
		}
	}
}
