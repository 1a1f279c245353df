package agent

import (
	"errors"
	"strings"
	"sync"
	"time"

	"overcast/internal/docker"
)

// forward ships a running awslogs container's output to the LogSink, once
// per container: the engine keeps the output (json-file), the agent reads
// it back as it comes, as the awslogs driver would send it. It ends when
// the container stops.
func (a *Agent) forward(t *task, id string, dest LogDestination, since time.Time) {
	if a.cfg.Logs == nil {
		return
	}
	t.mu.Lock()
	if t.following[id] {
		t.mu.Unlock()
		return
	}
	t.following[id] = true
	t.forwarders.Add(1)
	t.mu.Unlock()
	if dest.Stream == "" || strings.HasSuffix(dest.Stream, "/") {
		dest.Stream += id
	}
	go func() {
		defer t.forwarders.Done()
		var mu sync.Mutex
		var batch []LogEvent
		last := since
		onLine := func(line string) {
			// Timestamps put the engine's RFC 3339 time before each line.
			ts, msg, _ := strings.Cut(line, " ")
			when, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil {
				when, msg = time.Now(), line
			}
			mu.Lock()
			batch = append(batch, LogEvent{Time: when.UTC(), Message: msg})
			if when.After(last) {
				last = when
			}
			mu.Unlock()
		}
		lines := docker.Lines(onLine)
		flush := func() {
			mu.Lock()
			events := batch
			batch = nil
			mu.Unlock()
			if len(events) == 0 {
				return
			}
			if err := a.cfg.Logs.PutLogEvents(a.ctx, dest, events); err != nil {
				a.log.Warn("ecs agent: shipping container logs", "container", id, "stream", dest.Stream, "err", err)
			}
		}
		w := writerFunc(func(p []byte) (int, error) {
			n, err := lines.Write(p)
			flush()
			return n, err
		})
		err := a.engine.Logs(a.ctx, id, docker.LogsOptions{Stdout: w, Stderr: w, Follow: true, Timestamps: true, Since: since})
		if err == nil {
			// Engines before 23.0 can end a follow before the container's
			// last output reached the log file (it is written as the
			// container exits): read once more what came after.
			lines.Close()
			lines = docker.Lines(onLine)
			mu.Lock()
			after := last
			mu.Unlock()
			if !after.IsZero() {
				after = after.Add(time.Nanosecond)
			}
			err = a.engine.Logs(a.ctx, id, docker.LogsOptions{Stdout: w, Stderr: w, Timestamps: true, Since: after})
		}
		lines.Close()
		flush()
		if err != nil && a.ctx.Err() == nil && !errors.Is(err, docker.ErrNotFound) {
			a.log.Warn("ecs agent: following container logs", "container", id, "err", err)
		}
	}()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
