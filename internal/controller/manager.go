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

	mu    sync.Mutex
	ctrls []*Controller
	names map[string]bool
	// shared runs the controllers of the state all processes share, in
	// the one process holding the lease; local runs those of this
	// process's own state (Config.Local), in every process.
	shared, local group

	// fwd carries keys enqueued while shared does not run here to the
	// process where it does; pending holds them until fwd sends them.
	fwd     Forwarder
	pending map[string]map[string]bool
	queued  chan struct{}
}

// group is a set of controllers started and stopped together.
type group struct {
	running bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Forwarder carries keys enqueued in a process that does not run the
// shared controllers to the process that does: a request served by any
// replica gets its work reconciled by the leader. Forward may batch and
// must not assume the receiver runs the controller (leadership moves).
type Forwarder interface {
	Forward(ctx context.Context, controller string, keys []string) error
}

// NewManager returns a manager whose controllers wait on c and watch b
// (which may be nil when no controller watches events).
func NewManager(c clock.Clock, b Subscriber, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.Default()
	}
	return &Manager{clock: c, bus: b, logger: logger, names: map[string]bool{},
		pending: map[string]map[string]bool{}, queued: make(chan struct{}, 1)}
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
	if !cfg.Local {
		c.forward = m.forward
	}
	if g := m.groupOf(c); g.running {
		m.startLocked(g, c)
	}
	return c
}

func (m *Manager) groupOf(c *Controller) *group {
	if c.cfg.Local {
		return &m.local
	}
	return &m.shared
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
	c.periodic = true
	return &Periodic{c}
}

// Subscribe handles the bus's events that match pattern with h, through
// the durable subscription name, while the controllers run: in the one
// process that runs them, so that processes sharing a store do not each
// handle every event.
func (m *Manager) Subscribe(name string, pattern bus.Pattern, h bus.Handler) {
	m.Add(Config{
		Name:       name,
		Reconciler: ReconcilerFunc(func(context.Context, string) (Result, error) { return Result{}, nil }),
		Watch:      []Watch{{Pattern: pattern, Handle: h, Subscription: name}},
	})
}

// EveryLocal is Every for a pass over this process's own state (what it
// holds in memory), which every process runs, leader or not.
func (m *Manager) EveryLocal(name string, every time.Duration, pass func(ctx context.Context) error) *Periodic {
	c := m.Add(Config{
		Name:   name,
		Local:  true,
		Keys:   func(context.Context) ([]string, error) { return []string{name}, nil },
		Resync: every,
		Reconciler: ReconcilerFunc(func(ctx context.Context, _ string) (Result, error) {
			return Result{}, pass(ctx)
		}),
	})
	c.periodic = true
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
	m.startGroupLocked(&m.local)
	m.startGroupLocked(&m.shared)
}

// startGroup runs g's controllers, those added so far and those added
// later, until stopGroup.
func (m *Manager) startGroup(g *group) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.startGroupLocked(g)
}

func (m *Manager) startGroupLocked(g *group) {
	if g.running {
		return
	}
	g.running = true
	g.ctx, g.cancel = context.WithCancel(context.Background())
	for _, c := range m.ctrls {
		if m.groupOf(c) == g {
			m.startLocked(g, c)
		}
	}
}

// startLocked subscribes c's watches before returning, so that an event
// published after Start reaches it, then runs it.
func (m *Manager) startLocked(g *group, c *Controller) {
	ctx := g.ctx
	unsubscribe, err := c.watch(m.subscribe(ctx, c))
	if err != nil {
		m.logger.Error("controller: not started", "controller", c.cfg.Name, "err", err)
		return
	}
	c.active.Store(true)
	g.wg.Go(func() {
		defer c.active.Store(false)
		defer unsubscribe()
		c.run(ctx)
	})
}

// subscribe returns how c subscribes its watches.
func (m *Manager) subscribe(ctx context.Context, c *Controller) func(name string, w Watch) (func(), error) {
	return func(name string, w Watch) (func(), error) {
		if m.bus == nil {
			return nil, errors.New("no event bus")
		}
		sub, err := m.bus.Subscribe(ctx, name, w.Pattern, func(ctx context.Context, ev bus.Event) error {
			if w.Handle != nil {
				return w.Handle(ctx, ev)
			}
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
	m.stopGroup(&m.shared)
	m.stopGroup(&m.local)
}

func (m *Manager) stopGroup(g *group) {
	m.mu.Lock()
	cancel := g.cancel
	g.cancel, g.running = nil, false
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	g.wg.Wait()
}

// Enqueue asks the named controller for keys, in this process only: how
// keys forwarded by another process arrive. An unknown name (a process of
// another version) is ignored.
func (m *Manager) Enqueue(controller string, keys ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.ctrls {
		if c.cfg.Name == controller {
			c.enqueue(keys)
			return
		}
	}
}

// Resync lists the keys of every shared controller running here and
// enqueues them: what catches up on keys whose forwarding was lost (the
// leader's connection dropped while another process forwarded). Periodic
// passes are left to their period: a Wake lost costs at most that.
func (m *Manager) Resync(ctx context.Context) {
	m.mu.Lock()
	var ctrls []*Controller
	for _, c := range m.ctrls {
		if !c.cfg.Local && !c.periodic && c.cfg.Keys != nil && c.active.Load() {
			ctrls = append(ctrls, c)
		}
	}
	m.mu.Unlock()
	for _, c := range ctrls {
		keys, err := c.cfg.Keys(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.logger.Warn("controller: listing keys", "err", err)
			}
			continue
		}
		c.enqueue(keys)
	}
}

// SetForwarder makes keys enqueued while the shared controllers do not
// run here go to f; RunLeased sends them.
func (m *Manager) SetForwarder(f Forwarder) {
	m.mu.Lock()
	m.fwd = f
	m.mu.Unlock()
}

// forward notes keys for the forwarder; see SetForwarder.
func (m *Manager) forward(controller string, keys []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fwd == nil || len(keys) == 0 {
		return
	}
	set := m.pending[controller]
	if set == nil {
		set = map[string]bool{}
		m.pending[controller] = set
	}
	for _, k := range keys {
		set[k] = true
	}
	signal(m.queued)
}

// sendForwarded hands the keys forward noted to the forwarder until ctx
// ends; a batch that fails is retried with the next, since losing it
// would leave a request's work undone until the leader's next resync.
func (m *Manager) sendForwarded(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.queued:
		}
		m.mu.Lock()
		batch, f := m.pending, m.fwd
		m.pending = map[string]map[string]bool{}
		m.mu.Unlock()
		for name, set := range batch {
			keys := make([]string, 0, len(set))
			for k := range set {
				keys = append(keys, k)
			}
			if err := f.Forward(ctx, name, keys); err != nil {
				if ctx.Err() != nil {
					return
				}
				m.logger.Warn("controller: forwarding keys to the leader", "controller", name, "err", err)
				m.forward(name, keys)
				t := m.clock.NewTimer(time.Second)
				select {
				case <-ctx.Done():
				case <-t.C():
				}
				t.Stop()
			}
		}
	}
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
