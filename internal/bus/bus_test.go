package bus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/bus"
	"overcast/internal/clock"
	"overcast/internal/store"
	"overcast/internal/store/sqlite"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// recorder is a handler that remembers what it saw.
type recorder struct {
	mu   sync.Mutex
	seen []string
	ch   chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1000)} }

func (r *recorder) handle(_ context.Context, ev bus.Event) error {
	r.mu.Lock()
	r.seen = append(r.seen, ev.Type)
	r.mu.Unlock()
	r.ch <- struct{}{}
	return nil
}

func (r *recorder) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for range n {
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %d events", n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func publish(t *testing.T, b *bus.Bus, st store.Store, types ...string) {
	t.Helper()
	var evs []bus.Event
	for _, typ := range types {
		evs = append(evs, bus.Event{Source: "aws.s3", Type: typ})
	}
	if err := st.Update(context.Background(), func(tx store.Tx) error {
		return b.Publish(context.Background(), tx, evs...)
	}); err != nil {
		t.Fatal(err)
	}
	b.Notify()
}

func TestPublishSubscribe(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "db"))
	defer st.Close()
	b := bus.New(st, bus.Options{PollInterval: time.Hour})
	defer b.Close()

	publish(t, b, st, "ObjectCreated:Put") // before anyone listens: not delivered
	rec := newRecorder()
	if _, err := b.Subscribe(ctx, "test", bus.Pattern{Source: "aws.s3", Types: []string{"ObjectCreated:*"}}, rec.handle); err != nil {
		t.Fatal(err)
	}
	publish(t, b, st, "ObjectCreated:Copy", "ObjectRemoved:Delete", "ObjectCreated:Post")
	got := rec.wait(t, 2)
	if diff := cmp.Diff([]string{"ObjectCreated:Copy", "ObjectCreated:Post"}, got); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

// TestRolledBackNotPublished: an event published in a transaction that
// rolls back never exists.
func TestRolledBackNotPublished(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "db"))
	defer st.Close()
	b := bus.New(st, bus.Options{PollInterval: 10 * time.Millisecond})
	defer b.Close()
	rec := newRecorder()
	b.Subscribe(ctx, "test", bus.Pattern{}, rec.handle)

	boom := errors.New("boom")
	err := st.Update(ctx, func(tx store.Tx) error {
		if err := b.Publish(ctx, tx, bus.Event{Type: "RolledBack"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, nil, bus.Event{Type: "Committed"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Committed"}, rec.wait(t, 1)); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

// TestRetriesFailingHandler: a handler error re-delivers the same event,
// and later events wait for it.
func TestRetriesFailingHandler(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "db"))
	defer st.Close()
	b := bus.New(st, bus.Options{PollInterval: time.Hour, MaxBackoff: 20 * time.Millisecond, Logger: quiet})
	defer b.Close()
	rec := newRecorder()
	failures := 3
	b.Subscribe(ctx, "flaky", bus.Pattern{}, func(ctx context.Context, ev bus.Event) error {
		if ev.Type == "first" && failures > 0 {
			failures--
			return fmt.Errorf("not yet")
		}
		return rec.handle(ctx, ev)
	})
	publish(t, b, st, "first", "second")
	if diff := cmp.Diff([]string{"first", "second"}, rec.wait(t, 2)); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

// TestResumesAfterRestart: events published while a subscriber was away
// (or not yet handled when the process stopped) are delivered after a
// restart, to the subscription with the same name.
func TestResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	st := openStore(t, path)
	b := bus.New(st, bus.Options{PollInterval: time.Hour})
	rec := newRecorder()
	if _, err := b.Subscribe(ctx, "durable", bus.Pattern{}, rec.handle); err != nil {
		t.Fatal(err)
	}
	publish(t, b, st, "one")
	rec.wait(t, 1)
	b.Close()
	// Published after the subscriber stopped, as if it crashed.
	b2 := bus.New(st, bus.Options{PollInterval: time.Hour})
	publish(t, b2, st, "two", "three")
	b2.Close()
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	b3 := bus.New(st, bus.Options{PollInterval: time.Hour})
	defer b3.Close()
	rec2 := newRecorder()
	if _, err := b3.Subscribe(ctx, "durable", bus.Pattern{}, rec2.handle); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"two", "three"}, rec2.wait(t, 2)); diff != "" {
		t.Errorf("delivered after restart (-want +got):\n%s", diff)
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, filepath.Join(t.TempDir(), "db"))
	defer st.Close()
	fake := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	b := bus.New(st, bus.Options{PollInterval: time.Hour, Clock: fake, Retention: time.Hour})
	defer b.Close()
	slow, err := b.Subscribe(ctx, "slow", bus.Pattern{Types: []string{"never"}}, func(context.Context, bus.Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	slow.Close() // its cursor stays behind what follows
	publish(t, b, st, "a", "b")
	count := func() int {
		var n int
		st.View(ctx, func(tx store.Tx) error { n, _ = tx.Count("events.outbox", ""); return nil })
		return n
	}
	if err := b.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 2 {
		t.Errorf("after prune with a cursor behind: got %d events, want 2", got)
	}
	fake.Advance(2 * time.Hour)
	if err := b.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 0 {
		t.Errorf("after retention: got %d events, want 0", got)
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		p    bus.Pattern
		ev   bus.Event
		want bool
	}{
		{bus.Pattern{}, bus.Event{Source: "aws.s3", Type: "x"}, true},
		{bus.Pattern{Source: "aws.s3"}, bus.Event{Source: "aws.ecs", Type: "x"}, false},
		{bus.Pattern{Types: []string{"ObjectCreated:*"}}, bus.Event{Type: "ObjectCreated:Put"}, true},
		{bus.Pattern{Types: []string{"ObjectCreated:*"}}, bus.Event{Type: "ObjectRemoved:Delete"}, false},
		{bus.Pattern{Types: []string{"ObjectRemoved:Delete", "ObjectCreated:Put"}}, bus.Event{Type: "ObjectCreated:Put"}, true},
	}
	for _, tt := range tests {
		if got := tt.p.Match(tt.ev); got != tt.want {
			t.Errorf("%+v.Match(%+v): got %v, want %v", tt.p, tt.ev, got, tt.want)
		}
	}
}
