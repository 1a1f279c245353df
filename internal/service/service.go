// Package service is the kit every AWS service in overcast is built with:
// the one environment a constructor takes (Env), the lifecycle internal/app
// drives (Starter, Closer), and how a service tells the gateway what it
// serves (API, Plane) without the gateway naming it.
//
// A service package internal/<svc> has:
//
//	func New(env *service.Env, ...the services it uses, as small interfaces) *Service
//	func (s *Service) API() service.API          // api.<svc>.Bind(s), with any options
//	func (s *Service) Planes() []service.Plane   // optional: data planes (registry, websites, ...)
//	func (s *Service) Start(ctx) error           // optional: work before serving (recovery)
//	func (s *Service) Close() error              // optional: release what it holds
//
// and registers anything long-running with env.Controllers in New.
// ADDING_A_SERVICE.md at the repository root walks through it.
package service

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"overcast"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/blob"
	"overcast/internal/bus"
	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/docker"
	"overcast/internal/ids"
	"overcast/internal/secretbox"
	"overcast/internal/store"
)

// Env is everything a service is built from. internal/app makes one, with
// every field set; a test makes one with servicetest.Env.
type Env struct {
	Store store.Store
	// History is where a record written with nearly every call and read
	// apart from all else is kept (CloudTrail's event history). Under
	// SQLite it is a database file of its own: a commit to a file makes
	// each of that file's readers drop its page cache and memory map at
	// its next read, so a history in the main file would have every
	// other read in overcast (an S3 GET, say) pay for each call recorded.
	// Under PostgreSQL, whose readers keep their buffers, it is Store.
	History store.Store
	Blobs   blob.Store
	Bus     *bus.Bus
	// Controllers runs the service's reconcile loops and periodic passes.
	Controllers *controller.Manager
	Clock       clock.Clock
	IDs         *ids.Source
	Logger      *slog.Logger
	// Docker is the engine containers run on (ECS tasks, builds,
	// environments). It may not answer: callers report ErrUnavailable as
	// AWS would report a capacity problem, they do not fail to start.
	Docker *docker.Engine
	// Engines are all the engines ECS tasks run on (--docker-host),
	// Docker first; each stands for a host of its own.
	Engines []*docker.Engine
	// Sealer encrypts values at rest under the data dir's local key (the
	// stand-in for KMS).
	Sealer  Sealer
	DataDir string
	// Shared is set when the store may be shared with other overcast
	// processes (PostgreSQL): what must agree across them lives in the
	// store rather than in the data dir (Key), and controllers of shared
	// state run in one process at a time.
	Shared bool
	// Peers reach the other processes sharing the store, for what they
	// keep in memory that a write here made stale (IAM's caches of keys
	// and identities); nil when the store is this process's own.
	Peers Peers
	// Strict is --strict: unknown keys and bad signatures are refused, and
	// services enforce what AWS enforces that is lenient by default.
	Strict bool
	// Addresses are the names and addresses overcast reports to clients.
	Addresses Addresses
}

// Sealer encrypts values at rest (SSM SecureStrings, Secrets Manager
// secrets): context binds a sealed value to what it belongs to, so that it
// cannot be moved to another record. secretbox.Box is the implementation.
type Sealer interface {
	Seal(plaintext, context []byte) []byte
	Open(sealed, context []byte) ([]byte, error)
}

var _ Sealer = (*secretbox.Box)(nil)

// Base is what nearly every service keeps of its Env, for its Service type
// to embed: the store, the bus to report changes on, the clock's Now, the
// ID source and the logger.
type Base struct {
	Store  store.Store
	Bus    bus.Publisher
	Now    func() time.Time
	IDs    *ids.Source
	Logger *slog.Logger
}

// Base returns the part of env a service keeps in its Base.
func (env *Env) Base() Base {
	return Base{Store: env.Store, Bus: env.Bus, Now: env.Clock.Now, IDs: env.IDs, Logger: env.Logger}
}

// Named returns a copy of env whose logger says which service logs.
func (env *Env) Named(name string) *Env {
	c := *env
	c.Logger = env.Logger.With("service", name)
	return &c
}

// Scope is the account and region a request acts in: the caller's, with
// the default region for requests that name none (unsigned ones).
func (env *Env) Scope(ctx context.Context) overcast.Scope { return overcast.ScopeOf(ctx) }

// Addresses are where clients reach overcast, as services report it
// (repository URIs, clone URLs, load balancer and distribution names): one
// place, so that a later mode can report AWS's own forms by changing it
// here.
type Addresses struct {
	// Host is host:port of the endpoint, with a loopback address where
	// overcast listens on all interfaces: docker speaks plain HTTP only to
	// loopback registries.
	Host string
}

// URL is the endpoint's base URL.
func (a Addresses) URL() string { return "http://" + a.Host }

// GitURL is the base URL of CodeCommit's git repositories in region. On
// loopback it names the host as AWS does, under .localhost
// (git-codecommit.<region>.amazonaws.com.localhost:<port>), which git's
// HTTP client resolves to loopback: the aws CLI's credential helper signs
// only for hosts with amazonaws.com in their name (unless given
// --ignore-host-check) and takes the region it signs for from the name.
func (a Addresses) GitURL(region string) string {
	host, port, err := net.SplitHostPort(a.Host)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return a.URL()
	}
	return "http://" + net.JoinHostPort("git-codecommit."+region+".amazonaws.com.localhost", port)
}

// Starter is a service with work to do once every service is built and
// before requests are served (recovering what a crash left).
type Starter interface {
	Start(ctx context.Context) error
}

// Peers are the other processes sharing a store (PostgreSQL's NOTIFY and
// LISTEN): a notification on a channel reaches every process listening on
// it when it is sent, at most once, so a listener catches up in onListen,
// called each time listening (re)starts, from what the store holds.
type Peers interface {
	Notify(ctx context.Context, channel, payload string) error
	Listen(ctx context.Context, channel string, onListen func(), onNotify func(payload string)) error
}

// Closer is a service holding something to release when overcast stops.
// Services close in the reverse of their start order, after the
// controllers have stopped and before the store closes.
type Closer interface {
	Close() error
}

// APIProvider is a service serving an AWS API.
type APIProvider interface {
	API() API
}

// PlaneProvider is a service serving data planes.
type PlaneProvider interface {
	Planes() []Plane
}

// API is a service's AWS API as the gateway serves it: the generated
// binding (api.<svc>.Bind) and how the gateway treats requests to it.
type API struct {
	Binding awsproto.Binding
	// Anonymous makes unsigned requests anonymous rather than the account
	// root's, and lets them through under --strict: the service decides
	// what anonymous callers may do (S3 and its bucket policies).
	Anonymous bool
	// Fallback makes this API the one for requests that name no service
	// (no signature, target or query version): S3, as AWS's bare
	// endpoint is.
	Fallback bool
	// PresignedV2 accepts SigV2 presigned URLs (what the aws CLI v1's
	// `s3 presign` makes).
	PresignedV2 bool
	// VirtualHosts are host suffixes (".s3.localhost") under which the
	// labels before the suffix name a resource that the path-style form of
	// the request puts first: S3's virtual-hosted buckets. Such a request
	// is authenticated as sent and then served as /<resource><path>.
	VirtualHosts []string
	// CORS, when set, answers CORS for resources the service configures
	// itself (S3 buckets with a CORS configuration).
	CORS CORSPolicy
	// Authz is how IAM authorizes each of the API's operations: the
	// action it needs and the resources it touches (see internal/authz).
	Authz *authz.Table
}

// CORSPolicy answers CORS for a service's own resources.
type CORSPolicy interface {
	// CORS returns false to leave the request to the gateway's permissive
	// default. Otherwise it has set the response's Access-Control-*
	// headers and, for a preflight (OPTIONS with
	// Access-Control-Request-Method), answered it. A refusal is returned
	// as an error for the gateway to write.
	CORS(w http.ResponseWriter, r *http.Request, preflight bool) (bool, error)
}

// Auth is how the gateway authenticates a data plane's requests.
type Auth int

const (
	// AuthNone hands requests over as they come: the plane authenticates
	// them itself (registry tokens, git credentials) or serves the public
	// (websites, CDN edges).
	AuthNone Auth = iota
	// AuthSigV4 verifies the request as a call of the plane's API (Plane.API)
	// would be verified, and hands it over with the caller in its context.
	AuthSigV4
)

// Plane is a data plane: requests it matches go to its handler instead of
// an AWS API. The gateway tries planes in the order services register
// them, before the APIs.
type Plane struct {
	Name    string // in metrics
	Match   Matcher
	Auth    Auth
	API     string // for AuthSigV4: the signing name of the API whose rules apply ("s3")
	Handler http.Handler
	// Lean says the plane's requests need nothing of net/http's server
	// (HTTP/2, a context cancelled when the client goes away, a body
	// sniffed for its type): the gateway may answer them on its lean
	// HTTP/1.1 loop, which costs less CPU per request.
	Lean bool
	// Intercepted planes serve calls of an API themselves and run them
	// through awsproto.Intercept (the registry records docker's pulls as
	// ECR's BatchGetImage): the gateway hands them the interceptors it
	// runs around the APIs' calls.
	Intercepted bool
}

// Matcher selects a plane's requests.
type Matcher func(r *http.Request) bool

// PathPrefix matches requests whose path starts with prefix.
func PathPrefix(prefix string) Matcher {
	return func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, prefix) }
}

// HostSuffix matches requests for a host name ending in suffix (".s3-website.localhost"),
// with at least one label before it, on any port.
func HostSuffix(suffix string) Matcher {
	return func(r *http.Request) bool {
		_, ok := HostLabels(r.Host, suffix)
		return ok
	}
}

// HostLabels returns what host (with or without a port) has before
// suffix, lowercased, when it ends in suffix and has something before it.
func HostLabels(host, suffix string) (string, bool) {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	labels, ok := strings.CutSuffix(host, suffix)
	return labels, ok && labels != ""
}
