// Package periodic runs a pass of background work now and then: the loop
// under every sweeper and controller (log retention, secret purges, ECR's
// lifecycle and garbage collection, the event outbox). One tested loop
// instead of one per service, because start/stop/wake plumbing is where
// such loops go wrong: a Stop that returns while a pass still uses the
// store, a Start after Stop, a second Stop.
package periodic

import (
	"context"
	"sync"
	"time"
)

// Loop calls Pass on its own goroutine every Every, and on Wake.
type Loop struct {
	every      time.Duration
	pass       func(ctx context.Context)
	delayFirst bool

	kick chan struct{}

	mu      sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// New returns a loop that calls pass every interval once started. The
// first pass runs at Start, so that a restart finishes what the last run
// left, unless delayFirst, for work that should not add to start-up.
func New(every time.Duration, delayFirst bool, pass func(ctx context.Context)) *Loop {
	return &Loop{every: every, pass: pass, delayFirst: delayFirst, kick: make(chan struct{}, 1)}
}

// Start runs the loop until Stop. It does nothing when the loop runs
// already or was stopped.
func (l *Loop) Start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.stopped {
		return
	}
	l.started = true
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go l.run(ctx)
}

// Wake asks for a pass now, without waiting for it; a pass already asked
// for covers this one.
func (l *Loop) Wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Stop cancels the running pass's context and waits until the loop has
// ended, so its owner may close what passes use. Stop may be called more
// than once, and without Start.
func (l *Loop) Stop() {
	l.mu.Lock()
	l.stopped = true
	cancel, done := l.cancel, l.done
	l.cancel = nil
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (l *Loop) run(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	if !l.delayFirst {
		l.pass(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.kick:
		}
		l.pass(ctx)
	}
}
