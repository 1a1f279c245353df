package ecr

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"overcast"
	api "overcast/internal/api/ecr"
	"overcast/internal/blob"
	"overcast/internal/ecr/registry"
	"overcast/internal/events"
	"overcast/internal/periodic"
	"overcast/internal/store"
)

// Publisher is the part of the event bus ECR uses: image actions are
// written in the transaction that makes them, then subscribers are woken.
type Publisher interface {
	Publish(ctx context.Context, tx store.Tx, evs ...events.Event) error
	Notify()
}

// Config configures the service.
type Config struct {
	Store  store.Store
	Blobs  blob.Store
	Events Publisher // may be nil: no events
	Now    func() time.Time
	Logger *slog.Logger
	// TokenKey signs authorization tokens (kept in the data dir by secretbox.LoadOrCreateKey).
	TokenKey []byte
	// RegistryHost is host:port of the registry clients push to, known once
	// overcast listens: repository URIs and proxyEndpoint are built on it.
	RegistryHost func() string
	// GracePeriod keeps blobs that no image references yet (a push in
	// progress) from garbage collection. Default 1h.
	GracePeriod time.Duration
	// ControllerTick is how often, in real time, the background controller
	// reads the clock to see whether lifecycle and GC work is due (hourly,
	// by the clock). Default 1s: a test that moves the clock sees the
	// effect at once.
	ControllerTick time.Duration
}

// Service is the ECR API (api.Server), the registry's Backend, and the
// lifecycle and garbage-collection controller.
type Service struct {
	api.UnimplementedServer
	db     store.Store
	blobs  blob.Store
	events Publisher
	now    func() time.Time
	logger *slog.Logger
	tokens *tokenSigner
	host   func() string
	grace  time.Duration

	uploads *uploads
	pulls   *pullRecorder

	controller *periodic.Loop
	// lastRun is when (by the clock) the controller last did its pass.
	lastRun time.Time
	// gcMu keeps two collections from running at once.
	gcMu sync.Mutex
}

var (
	_ api.Server       = (*Service)(nil)
	_ registry.Backend = (*Service)(nil)
)

// New returns the service; Start runs its controller.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.GracePeriod <= 0 {
		cfg.GracePeriod = time.Hour
	}
	if cfg.ControllerTick <= 0 {
		cfg.ControllerTick = time.Second
	}
	if cfg.RegistryHost == nil {
		cfg.RegistryHost = func() string { return "127.0.0.1:4566" }
	}
	s := &Service{
		db: cfg.Store, blobs: cfg.Blobs, events: cfg.Events, now: cfg.Now, logger: cfg.Logger,
		tokens: newTokenSigner(cfg.TokenKey), host: cfg.RegistryHost, grace: cfg.GracePeriod,
		uploads: newUploads(), pulls: newPullRecorder(),
	}
	// The first pass waits a tick: lifecycle and GC have no business in
	// start-up.
	s.controller = periodic.New(cfg.ControllerTick, true, s.controllerPass)
	return s
}

// Registry is the OCI data plane over this service, for the gateway's /v2/.
func (s *Service) Registry() *registry.Handler { return registry.New(s, s.logger) }

// Store tables; see the package comment.
const (
	reposTable     = "ecr.repos"
	imagesTable    = "ecr.images"
	manifestsTable = "ecr.manifests"
	tagsTable      = "ecr.tags"
	layersTable    = "ecr.layers"
	referrersTable = "ecr.referrers"
	contentTable   = "ecr.content"
	orphansTable   = "ecr.orphans"
	previewsTable  = "ecr.previews"
)

// updateAttempts bounds the retries of a read-modify-write that lost a race.
const updateAttempts = 10

// registryID is one account's registry in one region.
type registryID struct {
	account, region string
}

func (r registryID) prefix() string             { return r.account + "/" + r.region + "/" }
func (r registryID) repoKey(name string) string { return r.prefix() + name }
func (r registryID) arn(name string) string {
	return overcast.NewARN("ecr", r.region, r.account, "repository/"+name).String()
}
func repoOf(r registry.Repo) registryID { return registryID{r.Account, r.Region} }
func (r registryID) repo(name string) registry.Repo {
	return registry.Repo{Account: r.account, Region: r.region, Name: name}
}

// Keys of a repository's items. '@' and ':' cannot occur in repository
// names, so one repository's prefix never covers another's items.
func repoKey(r registry.Repo) string            { return r.Account + "/" + r.Region + "/" + r.Name }
func imagesPrefix(r registry.Repo) string       { return repoKey(r) + "@" }
func imageKey(r registry.Repo, d string) string { return imagesPrefix(r) + d }
func tagsPrefix(r registry.Repo) string         { return repoKey(r) + ":" }
func tagKey(r registry.Repo, tag string) string { return tagsPrefix(r) + tag }
func layerKey(r registry.Repo, d string) string { return imagesPrefix(r) + d }
func referrersPrefix(r registry.Repo, subject string) string {
	return imagesPrefix(r) + subject + "@"
}

// callerRegistry is the registry a request acts on: registryId when given,
// else the caller's own account, in the caller's region.
func callerRegistry(ctx context.Context, registryId *string) registryID {
	c := overcast.CallerFrom(ctx)
	region := c.Region
	if region == "" {
		region = overcast.DefaultRegion
	}
	account := c.AccountID
	if registryId != nil && *registryId != "" {
		account = *registryId
	}
	return registryID{account, region}
}

// Start runs the background controller: lifecycle policies, garbage
// collection, pull-time recording and idle uploads. Close stops it.
func (s *Service) Start() { s.controller.Start() }

// Close stops the controller, records pending pull times and drops the
// uploads in progress.
func (s *Service) Close() error {
	s.controller.Stop()
	err := s.flushPulls(context.Background())
	s.uploads.abortAll()
	return err
}

// publish writes events in tx; nil-safe.
func (s *Service) publish(ctx context.Context, tx store.Tx, evs ...events.Event) error {
	if s.events == nil || len(evs) == 0 {
		return nil
	}
	return s.events.Publish(ctx, tx, evs...)
}

func (s *Service) notify() {
	if s.events != nil {
		s.events.Notify()
	}
}
