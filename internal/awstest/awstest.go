// Package awstest starts a real overcast in-process for integration tests,
// on 127.0.0.1:0 with a temporary data dir, and hands out SDK configs that
// point at it. Tests talk to it with the official AWS SDK for Go v2.
package awstest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"overcast/internal/app"
	"overcast/internal/clock"
	"overcast/internal/docker"
	"overcast/internal/ids"
)

// Server is a running overcast.
type Server struct {
	URL     string
	DataDir string
	Main    *app.Main
	opts    options
	// loopbackBlock is where the server's default VPCs start (loopback.go).
	loopbackBlock int
}

type options struct {
	dataDir string
	store   string
	strict  bool
	enforce bool
	clock   clock.Clock
	ids     *ids.Source
	logger  *slog.Logger
	// taskEndpoint: serve ECS tasks on 169.254.170.2 (app.Config.TaskEndpoint).
	taskEndpoint bool
	configure    []func(*app.Config)
}

// Option changes how Start runs overcast.
type Option func(*options)

// InDir keeps the state in dir instead of a new temporary directory: a
// test restarts a server another process ran (and killed) on it.
func InDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// Store keeps the server's state where url says (--store), e.g. in a
// database of a cluster pgtest started, instead of SQLite in the data dir.
func Store(url string) Option { return func(o *options) { o.store = url } }

// Strict runs overcast with --strict.
func Strict() Option { return func(o *options) { o.strict = true } }

// EnforceIAM runs overcast with --enforce-iam: every call is authorized
// by the caller's IAM policies.
func EnforceIAM() Option { return func(o *options) { o.enforce = true } }

// TaskEndpoint makes the server serve ECS tasks' credentials and metadata
// on 169.254.170.2, as overcast up does: one server on the machine can.
func TaskEndpoint() Option { return func(o *options) { o.taskEndpoint = true } }

// Configure changes the server's app.Config before it starts, for the
// settings no other Option names (where blobs live, say).
func Configure(f func(*app.Config)) Option {
	return func(o *options) { o.configure = append(o.configure, f) }
}

// Clock injects the server's clock, usually a *clock.Fake the test
// advances: every timer of the services and controllers runs on it.
func Clock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// IDs injects the server's source of IDs, usually ids.Seeded.
func IDs(s *ids.Source) Option { return func(o *options) { o.ids = s } }

// IdPCAFile trusts the certificate authorities in a PEM file when STS
// fetches OpenID Connect issuers' keys (app.Config.IdPCAFile): a test's
// httptest.NewTLSServer issuer.
func IdPCAFile(path string) Option { return Configure(func(c *app.Config) { c.IdPCAFile = path }) }

// Start runs overcast until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{}
	for _, o := range opts {
		o(&s.opts)
	}
	if s.opts.taskEndpoint {
		HoldTaskEndpointAddress(t)
	}
	s.loopbackBlock = holdLoopbackBlock(t)
	s.DataDir = s.opts.dataDir
	if s.DataDir == "" {
		s.DataDir = t.TempDir()
	}
	if s.opts.logger == nil {
		level := slog.LevelWarn
		var w io.Writer = os.Stderr
		if os.Getenv("OVERCAST_TEST_LOG") == "" {
			w = io.Discard
		}
		s.opts.logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	}
	s.start(t)
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: s.DataDir, Store: s.opts.store, Strict: s.opts.strict, EnforceIAM: s.opts.enforce, TaskEndpoint: s.opts.taskEndpoint,
		Version: "test", Logger: s.opts.logger, Clock: s.opts.clock, IDs: s.opts.ids,
		LoopbackBlock: s.loopbackBlock}
	for _, f := range s.opts.configure {
		f(&cfg)
	}
	m := app.New(cfg)
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("awstest: starting overcast: %v", err)
	}
	s.Main, s.URL = m, m.URL()
	t.Cleanup(func() {
		if s.Main == m {
			m.Close()
			removeContainers(t, cfg)
		}
	})
}

// removeContainers removes what the server left running on its Docker
// engines. An overcast's tasks outlive it, as they must across a restart,
// but a test's would otherwise outlive the test run.
func removeContainers(t testing.TB, cfg app.Config) {
	hosts := cfg.DockerHosts
	if len(hosts) == 0 {
		hosts = []docker.Options{{}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, h := range hosts {
		e, err := docker.New(h)
		if err != nil {
			continue
		}
		if e.Reachable(ctx) {
			if err := e.Purge(ctx, map[string]string{docker.LabelInstance: docker.InstanceOf(cfg.DataDir)}); err != nil {
				t.Logf("awstest: removing the server's containers: %v", err)
			}
		}
		e.Close()
	}
}

// Restart stops the server and starts a new one on the same data dir, as a
// process restart would; the URL changes.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.Main.Close(); err != nil {
		t.Fatalf("awstest: stopping overcast: %v", err)
	}
	s.start(t)
}

// RegistryHost is host:port of the ECR registry: what docker logs in to
// and what repository URIs start with (the server's own address).
func (s *Server) RegistryHost() string { return strings.TrimPrefix(s.URL, "http://") }

// Config is an SDK config for the default account's root, as any client
// with made-up credentials gets outside --strict.
func (s *Server) Config() aws.Config {
	return s.ConfigWith("test", "test", "")
}

// ConfigWith is an SDK config signing with the given credentials.
func (s *Server) ConfigWith(accessKeyID, secret, sessionToken string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secret, sessionToken),
		BaseEndpoint: aws.String(s.URL),
		// A test wants the first answer, not a retried one.
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
}
