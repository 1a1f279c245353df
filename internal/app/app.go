// Package app wires overcast together: the one place that knows every
// package. cmd/overcast calls it; tests start it in-process (awstest).
package app

import (
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

	"overcast"
	"overcast/internal/api"
	"overcast/internal/awsproto"
	"overcast/internal/blob"
	"overcast/internal/docker"
	"overcast/internal/ecr"
	"overcast/internal/events"
	"overcast/internal/gateway"
	"overcast/internal/iam"
	"overcast/internal/logs"
	"overcast/internal/s3"
	"overcast/internal/secretbox"
	"overcast/internal/secretsmanager"
	"overcast/internal/ssm"
	"overcast/internal/store/sqlite"
	"overcast/internal/sts"
)

// Config is everything `overcast up` can be told.
type Config struct {
	Addr    string // listen address; "127.0.0.1:0" picks a free port
	DataDir string // state lives here; created if absent
	Strict  bool   // reject unknown access keys and bad signatures
	Version string
	Logger  *slog.Logger
	Now     func() time.Time // the clock; tests inject one
	Pprof   bool             // serve Go's profiler under /_overcast/debug/pprof/
}

// Main is a running overcast.
type Main struct {
	cfg     Config
	lock    *os.File
	db      *sqlite.DB
	ln      net.Listener
	srv     *http.Server
	served  chan error
	logs    *logs.Service           // its sweeper stops before the store closes
	secrets *secretsmanager.Service // so does this one
	bus     *events.Bus             // and the event bus
	s3      *s3.Service
	ecr     *ecr.Service // its controller stops before the store closes
}

// New returns a Main for cfg; Run starts it.
func New(cfg Config) *Main {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Main{cfg: cfg}
}

// Run opens the data dir, starts the services and listens. It returns once
// the endpoint accepts connections; Close stops it.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if err := os.MkdirAll(m.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("app: data dir: %w", err)
	}
	if m.lock, err = lockDataDir(m.cfg.DataDir); err != nil {
		return err
	}
	if m.db, err = sqlite.Open(ctx, filepath.Join(m.cfg.DataDir, "overcast.db")); err != nil {
		return fmt.Errorf("app: %w", err)
	}

	iamSvc := iam.New(m.db, m.cfg.Now)
	stsSvc := sts.New(sts.Config{Store: m.db, IAM: iamSvc, Now: m.cfg.Now, Logger: m.cfg.Logger, Strict: m.cfg.Strict})
	m.logs = logs.New(logs.Config{Store: m.db, Now: m.cfg.Now, Logger: m.cfg.Logger})
	m.logs.Start()
	// The local key that seals SecureString parameters and secrets at rest.
	box, err := secretbox.LoadOrCreate(filepath.Join(m.cfg.DataDir, "secretbox.key"))
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	m.secrets = secretsmanager.New(secretsmanager.Config{Store: m.db, Sealer: box, Now: m.cfg.Now, Logger: m.cfg.Logger})
	m.secrets.Start()
	blobs, err := blob.OpenDir(filepath.Join(m.cfg.DataDir, "blobs"))
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	m.bus = events.New(m.db, events.Options{Now: m.cfg.Now, Logger: m.cfg.Logger})
	keys := keyStores{stsSvc, iamSvc}
	if m.cfg.Strict {
		keys = append(keys, rootKeys{})
	}
	s3Svc := s3.New(s3.Config{Store: m.db, Blobs: blobs, Events: m.bus, Now: m.cfg.Now, Logger: m.cfg.Logger,
		Keys: s3Keys(keys, m.cfg.Now), Strict: m.cfg.Strict})
	m.s3 = s3Svc
	if err := s3Svc.Recover(ctx); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	ecrKey, err := secretbox.LoadOrCreateKey(filepath.Join(m.cfg.DataDir, "ecr-token.key"))
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	m.ecr = ecr.New(ecr.Config{Store: m.db, Blobs: blobs, Events: m.bus, Now: m.cfg.Now, Logger: m.cfg.Logger,
		TokenKey: ecrKey, RegistryHost: m.registryHost})
	m.ecr.Start()
	hosts := map[string]http.Handler{}
	for _, suffix := range s3.WebsiteHostSuffixes() {
		hosts[suffix] = s3Svc.Website()
	}
	impls := map[string]any{
		"s3":             s3Svc,
		"ecr":            m.ecr,
		"iam":            iamSvc,
		"logs":           m.logs,
		"sts":            stsSvc,
		"secretsmanager": m.secrets,
		"ssm":            ssm.New(ssm.Config{Store: m.db, Sealer: box, Now: m.cfg.Now}),
	}
	var handlers []*awsproto.Handler
	for _, svc := range api.Services {
		handlers = append(handlers, awsproto.NewHandler(svc, impls[svc.ID], m.cfg.Logger))
	}
	internal := map[string]http.Handler{s3.WebsitePathPrefix: s3Svc.Website()}
	internal[ecr.DownloadPathPrefix] = m.ecr.DownloadHandler()
	if m.cfg.Pprof {
		internal["/_overcast/debug/pprof/"] = pprofHandler()
	}
	gw := gateway.New(gateway.Config{
		APIs:            handlers,
		Keys:            keys,
		Strict:          m.cfg.Strict,
		Version:         m.cfg.Version,
		Logger:          m.cfg.Logger,
		Now:             m.cfg.Now,
		DockerReachable: docker.Reachable,
		Hosts:           hosts,
		BucketHosts:     []string{".s3.localhost"},
		Internal:        internal,
		Registry:        m.ecr.Registry(),
		CORS:            s3Svc,
	})

	if m.ln, err = net.Listen("tcp", m.cfg.Addr); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	m.srv = &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.cfg.Logger.Handler(), slog.LevelWarn),
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.srv.Serve(m.ln) }()
	return nil
}

// Events is the event bus services publish on and subscribe to.
func (m *Main) Events() *events.Bus { return m.bus }

// S3 is the S3 service (CloudFront reads origins through it).
func (m *Main) S3() *s3.Service { return m.s3 }

// ECR is the ECR service (ECS, Beanstalk and CodeBuild resolve and pull
// images through it).
func (m *Main) ECR() *ecr.Service { return m.ecr }

// registryHost is host:port where docker reaches the registry: the listen
// address, with loopback for an unspecified IP, because docker speaks
// plain HTTP only to loopback registries.
func (m *Main) registryHost() string {
	addr := m.cfg.Addr
	if m.ln != nil {
		addr = m.ln.Addr().String()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// DataDir is where the state lives.
func (m *Main) DataDir() string { return m.cfg.DataDir }

// URL is the endpoint clients point at.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops accepting requests, lets running ones finish (up to 10 s)
// and closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
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
	if m.logs != nil {
		errs = append(errs, m.logs.Close())
		m.logs = nil
	}
	if m.secrets != nil {
		errs = append(errs, m.secrets.Close())
		m.secrets = nil
	}
	if m.ecr != nil {
		errs = append(errs, m.ecr.Close())
		m.ecr = nil
	}
	if m.bus != nil {
		errs = append(errs, m.bus.Close())
		m.bus = nil
	}
	if m.db != nil {
		errs = append(errs, m.db.Close())
		m.db = nil
	}
	if m.lock != nil {
		m.lock.Close()
		m.lock = nil
	}
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

// keyStores asks each store in turn: STS knows temporary credentials, IAM
// long-term keys.
type keyStores []gateway.KeyStore

func (ks keyStores) LookupAccessKey(ctx context.Context, id string) (gateway.Credentials, error) {
	for _, k := range ks {
		c, err := k.LookupAccessKey(ctx, id)
		if !errors.Is(err, gateway.ErrUnknownAccessKey) {
			return c, err
		}
	}
	return gateway.Credentials{}, gateway.ErrUnknownAccessKey
}

// s3Keys gives S3 the secrets it needs to verify browser POST uploads.
func s3Keys(ks keyStores, now func() time.Time) s3.KeyLookup {
	return func(ctx context.Context, id string) (string, overcast.Caller, bool, error) {
		c, err := ks.LookupAccessKey(ctx, id)
		switch {
		case errors.Is(err, gateway.ErrUnknownAccessKey):
			return "", overcast.Caller{}, false, nil
		case err != nil:
			return "", overcast.Caller{}, false, err
		case c.Inactive || (!c.Expires.IsZero() && !now().Before(c.Expires)):
			return "", overcast.Caller{}, false, nil
		}
		return c.SecretAccessKey, c.Caller, true, nil
	}
}

// RootSecret is the secret of the root keys --strict accepts: access key
// "test" for the default account, or an account's 12-digit ID for that
// account. Without them nobody could create the first IAM user.
const RootSecret = "test"

// rootKeys is the bootstrap KeyStore of --strict.
type rootKeys struct{}

func (rootKeys) LookupAccessKey(ctx context.Context, id string) (gateway.Credentials, error) {
	account, ok := overcast.AccountFromAccessKey(id)
	if id == "test" {
		account, ok = overcast.DefaultAccountID, true
	}
	if !ok {
		return gateway.Credentials{}, gateway.ErrUnknownAccessKey
	}
	return gateway.Credentials{SecretAccessKey: RootSecret, Caller: overcast.RootCaller(account, "")}, nil
}

// RecordAccessKeyUse tells the stores that track key use.
func (ks keyStores) RecordAccessKeyUse(ctx context.Context, id, service, region string) error {
	var errs []error
	for _, k := range ks {
		if rec, ok := k.(gateway.UsageRecorder); ok {
			errs = append(errs, rec.RecordAccessKeyUse(ctx, id, service, region))
		}
	}
	return errors.Join(errs...)
}
