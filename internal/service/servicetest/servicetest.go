// Package servicetest builds the environment a service is tested in,
// without the rest of overcast: a real SQLite store and blob directory in a
// temporary directory, a fake clock, seeded IDs, the event bus and a
// controller manager, all closed when the test ends. The controllers are
// not started, so that a test sees the state a request leaves before any
// background work: a test of that work calls env.Controllers.Start(). Integration
// tests that need the whole server use awstest instead.
package servicetest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"overcast/internal/clock"
	"overcast/internal/ids"
	"overcast/internal/service"
)

// Epoch is the time a test environment's fake clock starts at.
var Epoch = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

type options struct {
	clock   clock.Clock
	dataDir string
}

// Option changes the environment Env builds.
type Option func(*options)

// WithClock uses c instead of a new fake clock at Epoch.
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// InDir keeps the state in dir instead of a new temporary directory, so a
// test can build a second environment on the first one's state: a restart.
func InDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// Env returns an environment for a service under test. Its Clock is a
// *clock.Fake unless WithClock says otherwise (see Fake).
func Env(t testing.TB, opts ...Option) *service.Env {
	t.Helper()
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = clock.NewFake(Epoch)
	}
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	env, err := service.Open(context.Background(), o.dataDir, service.Options{Clock: o.clock, IDs: ids.Seeded(1), Logger: Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	t.Cleanup(env.Controllers.Stop) // before the environment closes: cleanups run last first
	env.Addresses = service.Addresses{Host: "127.0.0.1:4566"}
	return env
}

// Fake is the fake clock of an environment Env built without WithClock.
func Fake(env *service.Env) *clock.Fake { return env.Clock.(*clock.Fake) }

// Logger discards what services log, unless OVERCAST_TEST_LOG is set.
func Logger() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("OVERCAST_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// WaitFor polls cond until it holds, failing the test after 10 seconds:
// the way to wait for background work (a controller's reconcile, an event
// delivered) without sleeping a guessed duration. awstest.WaitFor is the
// same, for integration tests.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitForEvery(t, what, 2*time.Millisecond, 10*time.Second, cond)
}

// WaitForEvery is WaitFor polling every poll, for at most within: for
// conditions that are costly to ask (a Docker engine, a container).
func WaitForEvery(t testing.TB, what string, poll, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(poll)
	}
}
