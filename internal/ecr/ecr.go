package ecr

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"overcast"
	api "overcast/internal/api/ecr"
	"overcast/internal/blob"
	"overcast/internal/bus"
	"overcast/internal/controller"
	"overcast/internal/ecr/registry"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Service is the ECR API (api.Server), the registry's Backend, and the
// controllers of lifecycle policies, garbage collection, pull times and
// idle uploads.
type Service struct {
	api.UnimplementedServer
	service.Base
	blobs  blob.Store
	tokens *tokenSigner
	host   string
	// grace keeps blobs that no image references yet (a push in
	// progress) from garbage collection.
	grace time.Duration

	uploads *uploads
	pulls   *pullRecorder
	// shared: replicas share the store, and uploads are parked there
	// between requests (handoff.go).
	shared bool

	// housekeeping applies lifecycle policies and collects garbage every
	// passInterval of the clock; pullTimes records pull times in batches;
	// idleUploads drops uploads nobody finishes.
	housekeeping *controller.Controller
	pullTimes    *controller.Periodic
	idleUploads  *controller.Periodic
	// gcMu keeps two collections from running at once.
	gcMu sync.Mutex
	// authorizer, under --enforce-iam, checks IAM policies.
	authorizer Authorizer
}

var (
	_ api.Server       = (*Service)(nil)
	_ registry.Backend = (*Service)(nil)
)

// New returns the service. Authorization tokens are signed with a key
// kept in the data dir (or the shared store), so they survive restarts and
// every replica accepts them.
func New(env *service.Env) (*Service, error) {
	key, err := env.Key(context.Background(), "ecr-token.key")
	if err != nil {
		return nil, fmt.Errorf("ecr: %w", err)
	}
	s := &Service{
		Base: env.Base(), blobs: env.Blobs,
		tokens: newTokenSigner(key), host: env.Addresses.Host, grace: time.Hour,
		uploads: newUploads(), pulls: newPullRecorder(), shared: env.Shared,
	}
	onlyHousekeeping := func(context.Context) ([]string, error) { return []string{housekeepingKey}, nil }
	s.housekeeping = env.Controllers.AddFunc("ecr-housekeeping", s.reconcileHousekeeping, onlyHousekeeping)
	s.pullTimes = env.Controllers.EveryLocal("ecr-pull-times", time.Minute, s.flushPulls)
	s.idleUploads = env.Controllers.EveryLocal("ecr-idle-uploads", uploadIdle/4, func(ctx context.Context) error {
		for _, u := range s.uploads.idle(s.Now().Add(-uploadIdle)) {
			s.cancel(ctx, u)
		}
		return s.dropIdleParked(ctx, s.Now().Add(-uploadIdle))
	})
	return s, nil
}

// API is ECR's API for the gateway.
func (s *Service) API() service.API { return service.API{Binding: api.Bind(s), Authz: &table} }

// Planes are the registry under /v2/ (requests without a SigV4
// signature: the ECR API's own REST-free JSON calls carry one) and the
// downloads GetDownloadUrlForLayer hands out.
func (s *Service) Planes() []service.Plane {
	return []service.Plane{
		{Name: "ecr-registry", Match: isRegistryRequest, Handler: s.Registry(), Intercepted: true},
		{Name: "ecr-download", Match: service.PathPrefix(DownloadPathPrefix), Handler: s.DownloadHandler()},
	}
}

func isRegistryRequest(r *http.Request) bool {
	if r.URL.Path != "/v2" && !strings.HasPrefix(r.URL.Path, "/v2/") {
		return false
	}
	return !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") && !r.URL.Query().Has("X-Amz-Algorithm")
}

// Registry is the OCI data plane over this service, for the gateway's /v2/.
func (s *Service) Registry() *registry.Handler { return registry.New(s, s.Logger) }

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
	metaTable      = "ecr.meta"
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

// Close records pending pull times and drops the uploads in progress.
func (s *Service) Close() error {
	err := s.flushPulls(context.Background())
	s.uploads.abortAll()
	return err
}

// publish writes events in tx; nil-safe.
func (s *Service) publish(ctx context.Context, tx store.Tx, evs ...bus.Event) error {
	if s.Bus == nil || len(evs) == 0 {
		return nil
	}
	return s.Bus.Publish(ctx, tx, evs...)
}

func (s *Service) notify() {
	if s.Bus != nil {
		s.Bus.Notify()
	}
}
