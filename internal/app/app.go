// Package app wires overcast together: the one place that knows every
// package. cmd/overcast calls it; tests start it in-process (awstest).
//
// Run builds one service.Env, then the services in the order services.go
// lists them (a service may take the ones before it), starts them in that
// order and the controllers after them, and hands the gateway what each
// registers. Close undoes it in reverse.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"overcast/internal/api"
	"overcast/internal/authz"
	"overcast/internal/awsproto"
	"overcast/internal/bus"
	"overcast/internal/clock"
	"overcast/internal/controller"
	"overcast/internal/docker"
	"overcast/internal/gateway"
	"overcast/internal/geoip"
	"overcast/internal/http1"
	"overcast/internal/ids"
	"overcast/internal/service"
	"overcast/internal/store"
)

// Config is everything `overcast up` can be told.
type Config struct {
	Addr    string // listen address; "127.0.0.1:0" picks a free port
	DataDir string // state lives here; created if absent
	// Store is where the store's state lives instead of the SQLite file in
	// DataDir: a postgres:// URL (--store); "" for SQLite.
	Store  string
	Strict bool // reject unknown access keys and bad signatures
	// EnforceIAM authorizes every call by the caller's IAM policies, as
	// AWS does (--enforce-iam; --strict implies it).
	EnforceIAM bool
	Version    string
	Logger     *slog.Logger
	Clock      clock.Clock // tests inject a fake one
	IDs        *ids.Source // tests inject a seeded one
	Pprof      bool        // serve Go's profiler under /_overcast/debug/pprof/
	// TaskEndpoint serves ECS tasks their role credentials and metadata
	// on 169.254.170.2, one address per machine: overcast up takes it;
	// test servers do not, unless a test asks (awstest.TaskEndpoint).
	TaskEndpoint bool
	// LoopbackBlock is the second octet of the first default VPC,
	// 127.<LoopbackBlock>.0.0/16; 0 means 16 (ec2.Options.FirstBlock).
	LoopbackBlock int
	// GeoIPDB is a MaxMind-format country database (GeoLite2-Country,
	// ip-location-db) CloudFront's edge places viewers with; "" for none.
	GeoIPDB string
	// GeoIPHeader names a request header whose two-letter value the edge
	// takes as the viewer's country, for tests; "" (the default) trusts
	// no header, since any viewer can send one.
	GeoIPHeader string
	// CloudFrontHTTPSAddr is where CloudFront's edge answers viewers over
	// HTTPS; "" is the API's host on port 4443 (any free port when the
	// API's port is 0).
	CloudFrontHTTPSAddr string
	// CodeCommitSSHAddr is where git reaches CodeCommit over SSH; "" is
	// the API's host on port 2222 (any free port when the API's port is
	// not 4566).
	CodeCommitSSHAddr string
	// Blobs is where object bytes live: "" for the data dir, or
	// "s3://bucket/prefix" on an S3-compatible service at BlobsEndpoint
	// (AWS's S3 when empty), with the environment's AWS credentials.
	Blobs         string
	BlobsEndpoint string
	// IdPCAFile is a PEM file of certificate authorities trusted, besides
	// the system's, when STS fetches an OpenID Connect issuer's keys over
	// HTTPS: a private CI server's, a test issuer's.
	IdPCAFile string
	// DisableCloudTrail turns CloudTrail's recording of every call off
	// (--cloudtrail=false), to measure what it costs.
	DisableCloudTrail bool
	// CloudTrailDelivery is how often trails deliver their log files; 0
	// is AWS's 5 minutes.
	CloudTrailDelivery time.Duration
	// DockerHosts are the engines ECS tasks run on (--docker-host), each
	// a host of its own; none is the one DOCKER_HOST or the local socket
	// names. Each must answer at start.
	DockerHosts []docker.Options
	// DockerHostLostAfter is how long an engine may stop answering before
	// ECS takes its host for lost and stops its tasks; 0 is a minute.
	DockerHostLostAfter time.Duration
	// LeaseTTL is how long the controllers' lease lasts unrenewed when
	// several overcasts share a PostgreSQL store (--lease-ttl): after
	// the leader dies, another takes over within about that long. 0 is 5
	// seconds.
	LeaseTTL time.Duration
}

// Main is a running overcast.
type Main struct {
	cfg      Config
	lock     *os.File
	env      *service.Env
	services []any // in start order
	keys     keyStores
	ln       net.Listener
	srv      *http.Server
	lean     *http1.Server // takes the connections first; see Run
	served   chan error
	// api is the gateway, for what services serve that forwards to it
	// (the ECS task endpoint); set once the gateway is built.
	api *lateHandler
	geo *geoip.Locator // viewers' countries, for CloudFront's edge
	// authz is the IAM evaluator under --enforce-iam; nil otherwise.
	authz *authz.Evaluator
	// replication runs the controllers under a lease when the store is
	// shared; nil otherwise.
	replication *replication
}

// New returns a Main for cfg; Run starts it.
func New(cfg Config) *Main {
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.Clock = cmp.Or(cfg.Clock, clock.Real())
	cfg.IDs = cmp.Or(cfg.IDs, ids.Random())
	return &Main{cfg: cfg}
}

// Run opens the data dir, builds and starts the services and listens. It
// returns once the endpoint accepts connections; Close stops it.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if m.geo, err = openGeoIP(m.cfg); err != nil {
		return err
	}
	env, err := m.openEnv(ctx)
	if err != nil {
		return err
	}
	m.api = &lateHandler{}
	if m.services, m.keys, err = buildServices(env, m.api, m.cfg, m.geo); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	for _, s := range m.services {
		if st, ok := s.(service.Starter); ok {
			if err := st.Start(ctx); err != nil {
				return fmt.Errorf("app: %w", err)
			}
		}
	}
	m.startControllers()
	gw := gateway.New(m.gatewayConfig(env))
	m.srv = &http.Server{
		Handler:           m.api.set(gw),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.cfg.Logger.Handler(), slog.LevelWarn),
	}
	// The lean loop takes every connection and answers the requests of
	// the planes that allow it (CloudFront's viewers); a connection's
	// first other request sends it, with what was read of it, to net/http.
	handoff := http1.NewListener(m.ln.Addr())
	m.lean = http1.Serve(m.ln, func(w http.ResponseWriter, r *http.Request, _ net.Addr) { m.srv.Handler.ServeHTTP(w, r) },
		http1.Options{Date: true, Keep: gw.Lean, Handoff: handoff.Push, Logger: m.cfg.Logger})
	m.served = make(chan error, 1)
	go func() { m.served <- m.srv.Serve(handoff) }()
	return nil
}

// startControllers runs the controllers: here alone when the store is this
// process's, or when this process holds the lease among those sharing it.
func (m *Main) startControllers() {
	if m.env.Peers == nil {
		m.env.Controllers.Start()
		return
	}
	lease := controller.NewLease(m.env.Store, controllersLease, leaseHolder(), cmp.Or(m.cfg.LeaseTTL, defaultLeaseTTL), m.cfg.Clock)
	m.replication = startReplication(m.env.Controllers, m.env.Peers, lease, m.cfg.Logger)
}

// Leading reports whether this process runs the controllers of the state
// in the store: always when the store is its own; when it is shared, while
// this process holds the lease.
func (m *Main) Leading() bool { return m.env.Controllers.Running() }

// openEnv opens what every service shares: the data dir (locked against
// a second overcast), the environment over it (service.Open) and the
// listener, whose address services report.
func (m *Main) openEnv(ctx context.Context) (*service.Env, error) {
	dir := m.cfg.DataDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("app: data dir: %w", err)
	}
	var err error
	if m.lock, err = lockDataDir(dir); err != nil {
		return nil, err
	}
	if m.env, err = service.Open(ctx, dir, service.Options{Clock: m.cfg.Clock, IDs: m.cfg.IDs, Logger: m.cfg.Logger, Strict: m.cfg.Strict,
		Blobs: m.cfg.Blobs, BlobsEndpoint: m.cfg.BlobsEndpoint, Store: m.cfg.Store, DockerHosts: m.cfg.DockerHosts}); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if m.ln, err = net.Listen("tcp", m.cfg.Addr); err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	m.env.Addresses = service.Addresses{Host: reachableHost(m.ln.Addr())}
	return m.env, nil
}

// gatewayConfig collects what the services register: their APIs (the
// generated 501 answers for those not built yet) and data planes.
func (m *Main) gatewayConfig(env *service.Env) gateway.Config {
	cfg := gateway.Config{Keys: m.keys, Strict: m.cfg.Strict, Version: m.cfg.Version, Logger: m.cfg.Logger,
		Clock: m.cfg.Clock, DockerReachable: env.Docker.Reachable, DockerHosts: engineHealth(env.Engines, len(m.cfg.DockerHosts) > 0, m.cfg.Clock.Now),
		StoreReachable: func(ctx context.Context) bool { return store.Ping(ctx, env.Store) == nil }, Leading: env.Controllers.Running,
		Metrics: []gateway.MetricsWriter{env.Controllers}}
	built := map[string]bool{}
	for _, s := range m.services {
		if p, ok := s.(service.APIProvider); ok {
			a := p.API()
			cfg.APIs = append(cfg.APIs, a)
			built[a.Binding.Service().ID] = true
		}
		if p, ok := s.(service.PlaneProvider); ok {
			cfg.Planes = append(cfg.Planes, p.Planes()...)
		}
	}
	for _, b := range api.Unimplemented() {
		if !built[b.Service().ID] {
			cfg.APIs = append(cfg.APIs, service.API{Binding: b})
		}
	}
	if m.cfg.EnforceIAM || m.cfg.Strict {
		m.authz = m.enforcement(cfg.APIs)
		cfg.Interceptors = append(cfg.Interceptors, m.authz.Interceptor())
	}
	for _, s := range m.services {
		// CloudTrail's recorder goes outermost: it records the calls the
		// interceptors inside it refuse.
		if r, ok := s.(interface{ Interceptor() awsproto.Interceptor }); ok && r.Interceptor() != nil {
			cfg.Interceptors = append([]awsproto.Interceptor{r.Interceptor()}, cfg.Interceptors...)
		}
	}
	if m.cfg.Pprof {
		cfg.Planes = append(cfg.Planes, service.Plane{Name: "pprof", Match: service.PathPrefix("/_overcast/debug/pprof/"), Handler: pprofHandler()})
	}
	return cfg
}

// reachableHost is host:port where clients reach the listener: loopback
// for an unspecified IP, because docker speaks plain HTTP only to loopback
// registries.
func reachableHost(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Bus is the event bus services publish on and subscribe to.
func (m *Main) Bus() *bus.Bus { return m.env.Bus }

// Docker is the engine layer services run containers with.
func (m *Main) Docker() *docker.Engine { return m.env.Docker }

// ServiceOf returns the running service of type T (tests reach a
// service's Go API through it: S3's ReadObjectAs, ECR's CollectGarbage).
func ServiceOf[T any](m *Main) T {
	for _, s := range m.services {
		if t, ok := s.(T); ok {
			return t
		}
	}
	var zero T
	panic(fmt.Sprintf("app: no service of type %T", zero))
}

// DataDir is where the state lives.
func (m *Main) DataDir() string { return m.cfg.DataDir }

// URL is the endpoint clients point at.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops accepting requests, lets running ones finish (up to 10 s),
// stops the controllers, closes the services in reverse order, then the
// store.
func (m *Main) Close() error {
	var errs []error
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.lean.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
		if err := m.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := <-m.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		m.srv = nil
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.replication != nil {
		m.replication.stop()
		m.replication = nil
	}
	if m.env != nil {
		m.env.Controllers.Stop()
	}
	for i := len(m.services) - 1; i >= 0; i-- {
		if c, ok := m.services[i].(service.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	m.services = nil
	if m.env != nil {
		errs = append(errs, m.env.Close())
		m.env = nil
	}
	if m.lock != nil {
		m.lock.Close()
		m.lock = nil
	}
	errs = append(errs, m.closeGeoIP())
	return errors.Join(errs...)
}

// lockDataDir keeps a second overcast from opening the same state.
func lockDataDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("app: data dir %s is in use by another overcast", dir)
	}
	return f, nil
}
