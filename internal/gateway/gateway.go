// Package gateway is overcast's front door: one listener for every AWS API
// and data plane. It assigns request IDs, answers CORS preflights and
// /_overcast/*, routes data-plane traffic (registry, git, per-host planes),
// and for AWS API calls finds the service, authenticates the SigV4
// signature, and hands the request to the service's awsproto.Handler with
// the caller in its context.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"overcast"
	"overcast/internal/awsproto"
)

// KeyStore resolves access key IDs to their secrets and identities. IAM
// (long-term keys) and STS (temporary credentials) implement it.
type KeyStore interface {
	LookupAccessKey(ctx context.Context, accessKeyID string) (Credentials, error)
}

// UsageRecorder is implemented by a KeyStore that remembers when each key
// was last used (IAM's GetAccessKeyLastUsed); the gateway reports every
// request whose signature it verified.
type UsageRecorder interface {
	RecordAccessKeyUse(ctx context.Context, accessKeyID, service, region string) error
}

// ErrUnknownAccessKey is what a KeyStore returns for a key it does not know.
var ErrUnknownAccessKey = errors.New("gateway: unknown access key")

// Credentials are what a KeyStore knows about an access key.
type Credentials struct {
	SecretAccessKey string
	// SessionToken must accompany requests signed with temporary credentials.
	SessionToken string
	// Expires is when temporary credentials stop working; zero for never.
	Expires time.Time
	// Active is false for keys an IAM user has deactivated.
	Inactive bool
	Caller   overcast.Caller
}

// Config is what the gateway serves.
type Config struct {
	APIs    []*awsproto.Handler
	Keys    KeyStore
	Strict  bool // reject unknown access keys and unsigned requests
	Version string
	Logger  *slog.Logger
	Now     func() time.Time
	// DockerReachable reports whether a Docker engine answers, for health.
	DockerReachable func(ctx context.Context) bool
	// Registry serves the OCI distribution API under /v2/ (ECR's data plane).
	Registry http.Handler
	// Git serves /v1/repos/<name>/... (CodeCommit's data plane).
	Git http.Handler
	// Hosts maps a host suffix such as ".cloudfront.localhost" to the data
	// plane that serves it.
	Hosts map[string]http.Handler
	// BucketHosts are host suffixes (".s3.localhost") whose leading labels
	// name an S3 bucket: virtual-hosted-style S3 requests, authenticated as
	// sent and then served as path-style ones.
	BucketHosts []string
	// Internal maps path prefixes under /_overcast/ ("/_overcast/s3-website/")
	// to the services that serve them: data planes reachable without DNS.
	Internal map[string]http.Handler
	// CORS, when set, is asked first about every request with an Origin.
	CORS CORSPolicy
}

// CORSPolicy lets a service answer CORS for resources it configures
// itself (S3 buckets with a CORS configuration).
type CORSPolicy interface {
	// CORS returns false to leave the request to the gateway's permissive
	// default. Otherwise it has set the response's Access-Control-* headers
	// and, for a preflight (OPTIONS with Access-Control-Request-Method),
	// written the whole response.
	CORS(w http.ResponseWriter, r *http.Request, preflight bool) bool
}

// Gateway is an http.Handler; see the package comment.
type Gateway struct {
	cfg       Config
	logger    *slog.Logger
	auth      *authenticator
	bySigning map[string]*awsproto.Handler
	byTarget  map[string]*awsproto.Handler
	byVersion map[string]*awsproto.Handler // query APIs, by their Version parameter
	rest      []*awsproto.Handler
	metrics   *metrics
	health    *healthCache
}

// New returns a gateway serving cfg.
func New(cfg Config) *Gateway {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	g := &Gateway{
		cfg:       cfg,
		logger:    cfg.Logger,
		bySigning: map[string]*awsproto.Handler{},
		byTarget:  map[string]*awsproto.Handler{},
		byVersion: map[string]*awsproto.Handler{},
		metrics:   newMetrics(),
		health:    &healthCache{check: cfg.DockerReachable, now: cfg.Now},
	}
	g.auth = newAuthenticator(cfg.Keys, cfg.Strict, cfg.Now)
	g.auth.bucketOf = g.bucketHost
	for _, h := range cfg.APIs {
		svc := h.Service()
		g.bySigning[svc.SigningName] = h
		if svc.TargetPrefix != "" {
			g.byTarget[svc.TargetPrefix] = h
		}
		if svc.Speaks("query") || svc.Speaks("ec2") {
			g.byVersion[svc.APIVersion] = h
		}
		if svc.Speaks("rest-json") || svc.Speaks("rest-xml") {
			g.rest = append(g.rest, h)
		}
	}
	return g
}

// ServeHTTP routes in the order ARCHITECTURE.md gives.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := g.cfg.Now()
	reqID := awsproto.NewRequestID()
	r = r.WithContext(awsproto.WithRequestID(r.Context(), reqID))
	sw := &statusWriter{ResponseWriter: w}
	service := "-"
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			g.logger.Error("panic serving request", "requestId", reqID, "method", r.Method, "path", r.URL.Path,
				"panic", p, "stack", string(debug.Stack()))
			if !sw.wroteHeader {
				awsproto.WriteError(sw, nil, "json", awsproto.InternalFailure(), reqID, r.Method == http.MethodHead)
			}
		}
		g.metrics.observe(service, sw.status(), g.cfg.Now().Sub(start))
	}()
	if origin := r.Header.Get("Origin"); origin != "" {
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if g.cfg.CORS != nil && g.cfg.CORS.CORS(sw, r, preflight) {
			if preflight {
				service = "cors"
				return
			}
		} else {
			setCORSHeaders(sw.Header(), r)
			if preflight {
				service = "cors"
				sw.WriteHeader(http.StatusOK)
				return
			}
		}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, "/_overcast/"):
		if h, name := g.internalPlane(r.URL.Path); h != nil {
			service = name
			h.ServeHTTP(sw, r)
			return
		}
		service = "overcast"
		g.serveInternal(sw, r)
		return
	case g.cfg.Registry != nil && (r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/")) && !isSigV4(r):
		service = "ecr-registry"
		g.cfg.Registry.ServeHTTP(sw, r)
		return
	case g.cfg.Git != nil && strings.HasPrefix(r.URL.Path, "/v1/repos/"):
		service = "codecommit-git"
		g.cfg.Git.ServeHTTP(sw, r)
		return
	}
	if bucket, ok := g.bucketHost(r.Host); ok {
		service = g.serveAPI(sw, r, reqID, bucket)
		return
	}
	if h, name := g.hostPlane(r.Host); h != nil {
		service = name
		h.ServeHTTP(sw, r)
		return
	}
	service = g.serveAPI(sw, r, reqID, "")
}

// hostPlane finds the data plane whose suffix matches the request's host.
func (g *Gateway) hostPlane(host string) (http.Handler, string) {
	if len(g.cfg.Hosts) == 0 {
		return nil, ""
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for suffix, h := range g.cfg.Hosts {
		if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
			return h, strings.Trim(suffix, ".")
		}
	}
	return nil, ""
}

func isSigV4(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") || r.URL.Query().Has("X-Amz-Algorithm")
}

// CORS lets browser SDKs call the APIs: every origin, the methods and
// headers the SDKs use, and the response headers they read.
func setCORSHeaders(h http.Header, r *http.Request) {
	h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, HEAD, PATCH, OPTIONS")
	if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
	} else {
		h.Set("Access-Control-Allow-Headers", "*")
	}
	h.Set("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amz-request-id, x-amz-id-2, x-amzn-ErrorType, ETag, x-amz-version-id, x-amz-delete-marker, Date")
	h.Set("Access-Control-Max-Age", "86400")
}

// statusWriter remembers the status for metrics and whether headers went
// out (a panic after that can only drop the connection).
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wroteHeader {
		s.code, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wroteHeader {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// Flush and Unwrap keep streaming responses and http.ResponseController working.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
