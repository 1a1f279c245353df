package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"overcast/internal/docker"
)

// task is the agent's in-memory handle on a task: nothing in it needs to
// survive a restart.
type task struct {
	arn   string
	wakeC chan struct{}
	// done is closed when the supervisor has returned.
	done chan struct{}
	// launched is closed once Start has made the task (or given up).
	launched chan struct{}

	mu          sync.Mutex
	stop        *stopRequest
	pullStarted time.Time
	pullStopped time.Time
	following   map[string]bool // containers whose logs are forwarded
	forwarders  sync.WaitGroup
	// adopted is when a previous overcast's task was taken over: its
	// logs were shipped up to about then.
	adopted time.Time
}

// newTask is the handle of a task that is already on the engine; Start
// gives the one it launches an open launched channel.
func newTask(arn string) *task {
	launched := make(chan struct{})
	close(launched)
	return &task{arn: arn, wakeC: make(chan struct{}, 1), done: make(chan struct{}), launched: launched,
		following: map[string]bool{}}
}

// wake asks the supervisor to look again; it never blocks.
func (t *task) wake() {
	select {
	case t.wakeC <- struct{}{}:
	default:
	}
}

// requestStop records the first reason the task was stopped for.
func (t *task) requestStop(code, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stop == nil {
		t.stop = &stopRequest{code: code, reason: reason}
	}
}

func (t *task) stopRequested() *stopRequest {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stop
}

// wait waits for the log forwarders, which end with their containers.
func (t *task) wait() { t.forwarders.Wait() }

// supervise watches the task until it is stopped, the Agent closed or
// Stop takes over: it starts containers as their dependencies allow,
// stops the task when an essential container exits or a container cannot
// start, and reports changes.
func (a *Agent) supervise(t *task) {
	go func() {
		defer close(t.done)
		ticker := time.NewTicker(a.cfg.PollInterval)
		defer ticker.Stop()
		var last string
		for {
			if t.stopRequested() != nil || a.ctx.Err() != nil {
				return
			}
			cs, err := a.engine.ListContainers(a.ctx, a.selector(t.arn))
			if err != nil {
				a.log.Warn("ecs agent: listing a task's containers", "task", t.arn, "err", err)
			}
			if err == nil && len(cs) > 0 {
				acted := a.step(t, cs)
				o := observe(t.arn, cs, nil)
				if fp := fmt.Sprintf("%+v", o); fp != last {
					last = fp
					a.notify(o)
				}
				if acted {
					continue
				}
				if o.LastStatus == StatusStopped {
					return
				}
			}
			select {
			case <-a.ctx.Done():
				return
			case <-t.wakeC:
			case <-ticker.C:
			}
		}
	}()
}

// step does what the task's state calls for, and reports whether it did
// anything (then the state has changed: look again at once).
func (a *Agent) step(t *task, cs []docker.Container) bool {
	ctx := a.ctx
	ms, _ := members(cs)
	for _, m := range ms {
		if m.phase == phaseRunning && m.meta.Log != nil {
			since := m.c.State.StartedAt
			if t.adopted.After(since) {
				since = t.adopted
			}
			a.forward(t, m.c.ID, *m.meta.Log, since)
		}
	}
	if taskFailure(ms) != nil {
		running := false
		for _, m := range ms {
			running = running || m.phase == phaseRunning
		}
		if !running {
			return false
		}
		if err := a.stopAll(ctx, cs); err != nil {
			a.log.Warn("ecs agent: stopping a task", "task", t.arn, "err", err)
		}
		return true
	}
	acted := false
	for _, m := range ms {
		if m.phase != phasePending || !met(m, ms) || t.stopRequested() != nil {
			continue
		}
		acted = true
		if err := a.engine.StartContainer(ctx, m.c.ID); err != nil {
			if errors.Is(err, context.Canceled) {
				return false
			}
			// The engine records why on the container (State.Error),
			// which makes it failed for observe.
			a.log.Warn("ecs agent: starting a container", "task", t.arn, "container", name(m), "err", err)
			return true
		}
		if m.meta.Log != nil {
			// Now, not once it is seen running: it may be done by then.
			a.forward(t, m.c.ID, *m.meta.Log, time.Time{})
		}
	}
	return acted
}

// stopAll stops the running containers of cs at once, each with SIGTERM
// and, after its stop timeout, SIGKILL; the pause container goes last,
// without a grace period (it holds nothing).
func (a *Agent) stopAll(ctx context.Context, cs []docker.Container) error {
	var wg sync.WaitGroup
	errs := make([]error, len(cs))
	var pause string
	for i, c := range cs {
		if !c.State.Running {
			continue
		}
		if isPause(c) {
			pause = c.ID
			continue
		}
		wg.Go(func() {
			errs[i] = a.engine.StopContainer(ctx, c.ID, stopTimeoutOf(c))
		})
	}
	wg.Wait()
	if pause != "" {
		if err := a.engine.KillContainer(ctx, pause, "SIGKILL"); err != nil && !errors.Is(err, docker.ErrConflict) {
			errs = append(errs, err)
		}
	}
	var out []error
	for _, err := range errs {
		if err != nil && !errors.Is(err, docker.ErrNotFound) {
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}
