package docker

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// Container event actions Watch reports.
const (
	ActionStart        = "start"
	ActionDie          = "die"
	ActionOOM          = "oom"
	ActionHealthStatus = "health_status"
	ActionDestroy      = "destroy"
	// ActionResync is not the engine's: Watch sends it after every
	// (re)connection, before any engine event. Events may have been missed
	// before it, so the handler should list what it owns (ListContainers)
	// and reconcile.
	ActionResync = "resync"
)

// defaultActions are what controllers act on: a container came up,
// went down (die, with oom just before it when the kernel killed it),
// changed health, or is gone.
var defaultActions = []string{ActionStart, ActionDie, ActionOOM, ActionHealthStatus, ActionDestroy}

// Event is a container event.
type Event struct {
	Action      string
	ContainerID string
	Name        string
	Image       string
	// Labels are the container's labels.
	Labels map[string]string
	// ExitCode is set on die.
	ExitCode int
	// Health is healthy, unhealthy or starting, on health_status.
	Health string
	Time   time.Time
}

// EventFilter chooses the events Watch reports.
type EventFilter struct {
	// Labels selects containers by label (a key with an empty value
	// matches any value), e.g. OwnerSelector("ecs").
	Labels map[string]string
	// Actions are the container actions wanted; empty means start, die,
	// oom, health_status and destroy.
	Actions []string
}

// Watch calls handle for each container event matching f until ctx ends,
// then returns ctx's error. It never gives up on the engine: when the
// stream breaks (the engine restarted, or was never there) it reconnects
// with back-off, up to every 5 seconds.
//
// Delivery is at-most-once per connection, and events that happen while
// disconnected are lost; hence the ActionResync event after each
// connection, which comes once the engine is already streaming to us, so a
// list made on it misses nothing that follows. handle runs on Watch's
// goroutine, one event at a time, and should only enqueue work: the engine
// drops events for a subscriber that falls behind.
func (e *Engine) Watch(ctx context.Context, f EventFilter, handle func(Event)) error {
	filters := labelFilters(f.Labels)
	filters.Add("type", string(events.ContainerEventType))
	actions := f.Actions
	if len(actions) == 0 {
		actions = defaultActions
	}
	filters.Add("event", actions...)

	const maxBackoff = 5 * time.Second
	backoff := 100 * time.Millisecond
	for {
		began := time.Now()
		e.watchOnce(ctx, filters, handle)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(began) > maxBackoff {
			// It was a working stream that broke, not an engine that is
			// still down: retry soon.
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// watchOnce streams until the connection breaks.
func (e *Engine) watchOnce(ctx context.Context, filters client.Filters, handle func(Event)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// No engine, no resync: back off quietly until one answers.
	if err := e.Ping(ctx); err != nil {
		return
	}
	r := e.api.Events(ctx, client.EventsListOptions{Filters: filters})
	// Events returns once the engine answered (or failed): a resync now
	// cannot miss an event that a list made from it would not show.
	select {
	case <-r.Err:
		return
	default:
	}
	handle(Event{Action: ActionResync, Time: time.Now()})
	for {
		select {
		case m := <-r.Messages:
			if ev, ok := eventOf(m); ok {
				handle(ev)
			}
		case <-r.Err:
			return
		}
	}
}

// eventOf converts an engine message; the engine writes health changes as
// "health_status: healthy".
func eventOf(m events.Message) (Event, bool) {
	if m.Type != events.ContainerEventType {
		return Event{}, false
	}
	ev := Event{
		Action:      string(m.Action),
		ContainerID: m.Actor.ID,
		Labels:      map[string]string{},
		Time:        time.Unix(0, m.TimeNano).UTC(),
	}
	if m.TimeNano == 0 {
		ev.Time = time.Unix(m.Time, 0).UTC()
	}
	if action, health, ok := strings.Cut(ev.Action, ":"); ok {
		ev.Action, ev.Health = action, strings.TrimSpace(health)
	}
	for k, v := range m.Actor.Attributes {
		switch k {
		case "name":
			ev.Name = v
		case "image":
			ev.Image = v
		case "exitCode":
			ev.ExitCode, _ = strconv.Atoi(v)
		case "signal", "execID", "execDuration":
			// engine bookkeeping, not labels
		default:
			ev.Labels[k] = v
		}
	}
	return ev, true
}
