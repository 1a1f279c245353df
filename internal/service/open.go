package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"overcast/internal/blob"
	"overcast/internal/blob/s3blob"
	"overcast/internal/bus"
	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/docker"
	"overcast/internal/ids"
	"overcast/internal/secretbox"
	"overcast/internal/store"
	"overcast/internal/store/postgres"
	"overcast/internal/store/sqlite"
)

// Options are what Open builds an environment from besides the data dir.
type Options struct {
	Clock  clock.Clock
	IDs    *ids.Source
	Logger *slog.Logger
	Strict bool
	// Blobs is where blobs live: "" for the data dir, or an S3-compatible
	// location "s3://bucket/prefix" (at BlobsEndpoint, or AWS's S3 when
	// empty) that several overcasts can share.
	Blobs         string
	BlobsEndpoint string
	// Store is where state lives: "" for the SQLite file in the data dir,
	// or a postgres:// (postgresql://) URL.
	Store string
	// DockerHosts are the engines containers run on (--docker-host), the
	// first being Env.Docker; none means the one DOCKER_HOST names, or the
	// local socket. Each named engine must answer when Open runs: a host
	// given on purpose that is not there is a mistake to report at start,
	// not capacity to lose silently later.
	DockerHosts []docker.Options
}

// openStore opens the store spec names and the history store beside it;
// see Options.Store and Env.History.
func openStore(ctx context.Context, dir, spec string) (main, history store.Store, err error) {
	switch {
	case spec == "":
		if main, err = asStore(sqlite.Open(ctx, filepath.Join(dir, "overcast.db"))); err != nil {
			return nil, nil, err
		}
		if history, err = asStore(sqlite.Open(ctx, filepath.Join(dir, "history.db"))); err != nil {
			main.Close()
			return nil, nil, err
		}
		return main, history, nil
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		main, err = asStore(postgres.Open(ctx, spec))
		return main, main, err
	}
	return nil, nil, fmt.Errorf("store %q: want a postgres:// URL, or nothing for SQLite in the data dir", redact(spec))
}

// asStore returns a nil Store on failure, never a nil pointer in one.
func asStore[S store.Store](s S, err error) (store.Store, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// redact hides what may be a password in a store spec that is not a URL
// Open understands, so that an error can quote the rest.
func redact(spec string) string {
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		return u.Redacted()
	}
	if len(spec) > 40 {
		return spec[:40] + "..."
	}
	return spec
}

// Open builds the environment over the data dir dir: the store and the
// history store (SQLite files in dir unless o.Store names another), the
// blob directory, the sealing key, the event bus (whose outbox the
// controllers prune every minute), the Docker engine client and the
// controller manager, which is not started. The app and servicetest both
// build theirs here, so a test's environment is overcast's. Close
// releases what Open opened; the controllers must have stopped first.
func Open(ctx context.Context, dir string, o Options) (env *Env, err error) {
	env = &Env{Clock: o.Clock, IDs: o.IDs, Logger: o.Logger, DataDir: dir, Strict: o.Strict}
	defer func() {
		if err != nil {
			env.Close()
			env = nil
		}
	}()
	db, history, err := openStore(ctx, dir, o.Store)
	if err != nil {
		return env, fmt.Errorf("service: %w", err)
	}
	env.Store, env.History = db, history
	env.Shared = o.Store != ""
	if p, ok := db.(Peers); ok && env.Shared {
		env.Peers = p
	}
	if env.Blobs, err = openBlobs(ctx, dir, o); err != nil {
		return env, fmt.Errorf("service: %w", err)
	}
	// The key that seals SecureString parameters and secrets at rest.
	key, err := env.Key(ctx, "secretbox.key")
	if err != nil {
		return env, fmt.Errorf("service: %w", err)
	}
	if env.Sealer, err = secretbox.New(key); err != nil {
		return env, fmt.Errorf("service: %w", err)
	}
	if env.Engines, err = openEngines(ctx, o.DockerHosts); err != nil {
		return env, fmt.Errorf("service: %w", err)
	}
	env.Docker = env.Engines[0]
	env.Bus = bus.New(db, bus.Options{Clock: o.Clock, IDs: o.IDs, Logger: o.Logger})
	env.Controllers = controller.NewManager(o.Clock, env.Bus, o.Logger)
	env.Controllers.Every("bus-prune", time.Minute, env.Bus.Prune)
	return env, nil
}

// openBlobs opens the blob store o names: the data dir's, or an
// S3-compatible one.
func openBlobs(ctx context.Context, dir string, o Options) (blob.Store, error) {
	if o.Blobs == "" {
		return blob.OpenDir(filepath.Join(dir, "blobs"))
	}
	return s3blob.Open(ctx, o.Blobs, s3blob.Options{Endpoint: o.BlobsEndpoint})
}

// openEngines connects to the engines hosts name, checking that each
// answers, or to the default engine, unchecked, when hosts is empty.
func openEngines(ctx context.Context, hosts []docker.Options) (engines []*docker.Engine, err error) {
	if len(hosts) == 0 {
		e, err := docker.New(docker.Options{})
		if err != nil {
			return nil, err
		}
		return []*docker.Engine{e}, nil
	}
	defer func() {
		if err != nil {
			for _, e := range engines {
				e.Close()
			}
			engines = nil
		}
	}()
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h.Host] {
			return engines, fmt.Errorf("docker host %s is given twice", h.Host)
		}
		seen[h.Host] = true
		e, err := docker.New(h)
		if err != nil {
			return engines, fmt.Errorf("docker host %s: %w", h.Host, err)
		}
		engines = append(engines, e)
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = e.Ping(pingCtx)
		cancel()
		if err != nil {
			return engines, fmt.Errorf("docker host %s does not answer: %w", h.Host, err)
		}
	}
	return engines, nil
}

// Close releases what Open opened, the store last.
func (env *Env) Close() error {
	var errs []error
	if env.Bus != nil {
		errs = append(errs, env.Bus.Close())
	}
	for _, e := range env.Engines {
		errs = append(errs, e.Close())
	}
	if env.History != nil && env.History != env.Store {
		errs = append(errs, env.History.Close())
	}
	if env.Store != nil {
		errs = append(errs, env.Store.Close())
	}
	return errors.Join(errs...)
}
