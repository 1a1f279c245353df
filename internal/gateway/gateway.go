// Package gateway is overcast's front door: one listener for every AWS API
// and data plane. It assigns request IDs, answers CORS preflights and
// /_overcast/health and /metrics, routes data-plane traffic to the planes
// services register, and for AWS API calls finds the service,
// authenticates the SigV4 signature, and hands the request to the
// service's awsproto.Handler with the caller in its context. It names no
// service: what is special about one (S3's anonymous callers, virtual
// hosts and SigV2 URLs) comes with that service's registration.
package gateway

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"overcast"
	"overcast/internal/awsproto"
	"overcast/internal/clock"
	"overcast/internal/http1"
	"overcast/internal/service"
)

// KeyStore resolves access key IDs to their secrets and identities. IAM
// (long-term keys) and STS (temporary credentials) implement it; it
// returns overcast.ErrUnknownAccessKey for a key it does not know.
type KeyStore interface {
	LookupAccessKey(ctx context.Context, accessKeyID string) (overcast.Credentials, error)
}

// UsageRecorder is implemented by a KeyStore that remembers when each key
// was last used (IAM's GetAccessKeyLastUsed); the gateway reports every
// request whose signature it verified.
type UsageRecorder interface {
	RecordAccessKeyUse(ctx context.Context, accessKeyID, service, region string) error
}

// MetricsWriter adds its own series to /_overcast/metrics (the
// controllers' queues and reconciles).
type MetricsWriter interface {
	WriteMetrics(w io.Writer)
}

// Config is what the gateway serves. It names no service: each brings its
// API and data planes as registrations.
type Config struct {
	APIs   []service.API
	Planes []service.Plane // tried in order, before the APIs
	Keys   KeyStore
	Strict bool // reject unknown access keys and unsigned requests
	// Version is reported by /_overcast/health.
	Version string
	Logger  *slog.Logger
	Clock   clock.Clock
	// DockerReachable reports whether a Docker engine answers, for health.
	DockerReachable func(ctx context.Context) bool
	// DockerHosts reports each engine given with --docker-host, for
	// health, which is degraded while one does not answer; nil when
	// overcast runs on the default engine alone.
	DockerHosts func(ctx context.Context) []DockerHost
	// StoreReachable reports whether the store answers (a PostgreSQL
	// server may go away and come back); health is degraded while it does
	// not. nil: always.
	StoreReachable func(ctx context.Context) bool
	// Leading reports whether this process runs the controllers, for
	// health: where replicas share a store, one at a time does. Nil means
	// always.
	Leading func() bool
	Metrics []MetricsWriter
	// Interceptors run around every API call, outermost first (see
	// awsproto.Interceptor): authorization, audit.
	Interceptors []awsproto.Interceptor
}

// api is a registered API and the handler that serves it.
type api struct {
	service.API
	h *awsproto.Handler
}

// Gateway is an http.Handler; see the package comment.
type Gateway struct {
	cfg       Config
	logger    *slog.Logger
	auth      *authenticator
	bySigning map[string]*api
	byTarget  map[string]*api
	byVersion map[string]*api // query APIs, by their Version parameter
	fallback  *api            // for requests that name no service
	virtual   []*api          // APIs with virtual hosts
	all       []*api
	metrics   *metrics
	health    *healthCache // Docker's
	storeUp   *healthCache
}

// New returns a gateway serving cfg.
func New(cfg Config) *Gateway {
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.Clock = cmp.Or(cfg.Clock, clock.Real())
	g := &Gateway{
		cfg:       cfg,
		logger:    cfg.Logger,
		bySigning: map[string]*api{},
		byTarget:  map[string]*api{},
		byVersion: map[string]*api{},
		metrics:   newMetrics(),
		health:    &healthCache{check: cfg.DockerReachable, now: cfg.Clock.Now},
		storeUp:   &healthCache{check: cfg.StoreReachable, now: cfg.Clock.Now},
	}
	if cfg.StoreReachable == nil {
		g.storeUp.check = func(context.Context) bool { return true }
	}
	g.auth = newAuthenticator(cfg.Keys, cfg.Strict, cfg.Clock.Now)
	for _, reg := range cfg.APIs {
		a := &api{API: reg, h: awsproto.NewHandler(reg.Binding, cfg.Logger)}
		svc := a.h.Service()
		g.all = append(g.all, a)
		g.bySigning[svc.SigningName] = a
		if svc.TargetPrefix != "" {
			g.byTarget[svc.TargetPrefix] = a
			g.byTarget[svc.TargetShape()] = a
		}
		if svc.Speaks("query") || svc.Speaks("ec2") {
			g.byVersion[svc.APIVersion] = a
		}
		if reg.Fallback {
			g.fallback = a
		}
		if len(reg.VirtualHosts) > 0 {
			g.virtual = append(g.virtual, a)
		}
	}
	return g
}

// ServeHTTP routes in the order ARCHITECTURE.md gives: CORS, overcast's
// own endpoints, the data planes, then the APIs.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := awsproto.NewRequestID()
	r = r.WithContext(overcast.WithOrigin(awsproto.WithRequestID(r.Context(), reqID), originOf(r, g.cfg.Clock.Now())))
	sw := &statusWriter{ResponseWriter: w}
	label := "-" // what served the request, for metrics
	rt := &route{}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			g.logger.Error("panic serving request", "requestId", reqID, "method", r.Method, "path", r.URL.Path,
				"panic", p, "stack", string(debug.Stack()))
			if !sw.wroteHeader {
				writeInternalFailure(sw, r, rt, reqID)
			}
		}
		g.metrics.observe(label, sw.status(), time.Since(start))
	}()
	if origin := r.Header.Get("Origin"); origin != "" && g.cors(sw, r, rt) {
		label = "cors"
		return
	}
	if r.URL.Path == "/_overcast/health" || r.URL.Path == "/_overcast/metrics" {
		label = "overcast"
		g.serveInternal(sw, r)
		return
	}
	for _, p := range g.cfg.Planes {
		if p.Match(r) {
			label = p.Name
			g.servePlane(sw, r, reqID, rt, p)
			return
		}
	}
	if strings.HasPrefix(r.URL.Path, "/_overcast/") {
		label = "overcast"
		http.NotFound(sw, r)
		return
	}
	for _, a := range g.virtual {
		if resource, ok := a.virtualHost(r.Host); ok {
			label = g.serveAPI(sw, r, reqID, rt, a, resource)
			return
		}
	}
	label = g.serveAPI(sw, r, reqID, rt, nil, "")
}

// Lean is an http1.Options.Keep: whether the request whose head this is
// goes to a data plane that may be served on the lean HTTP/1.1 loop. It
// routes on the request line and Host, as ServeHTTP does.
func (g *Gateway) Lean(head []byte) bool {
	target, host := http1.RequestLine(head)
	path, _, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "/_overcast/") {
		return false
	}
	r := &http.Request{Method: http.MethodGet, Host: host, URL: &url.URL{Path: path}}
	for _, p := range g.cfg.Planes {
		if p.Match(r) {
			return p.Lean
		}
	}
	return false
}

// route is what the gateway has found a request to be for, so that a
// panic is answered in the envelope of the API that was serving it.
type route struct {
	api *api // nil until an API claims the request
}

// writeInternalFailure answers a request whose handler panicked before
// sending anything: InternalFailure in the envelope of the API serving it,
// or of the request's shape before one was found. Headers the failed
// handler had set (a Content-Encoding, a Content-Range) would misdescribe
// the error, so only the CORS headers that let a browser read it are kept.
func writeInternalFailure(w http.ResponseWriter, r *http.Request, rt *route, reqID string) {
	h := w.Header()
	for k := range h {
		if !strings.HasPrefix(k, "Access-Control-") && k != "Vary" {
			delete(h, k)
		}
	}
	svc, proto := callerEnvelope(r)
	if rt.api != nil {
		svc, proto = rt.api.h.Service(), rt.api.h.Protocol(r)
	}
	awsproto.WriteError(w, svc, proto, awsproto.InternalFailure(), reqID, r.Method == http.MethodHead)
}

// cors answers CORS: a service's own policy when one claims the request,
// the gateway's permissive default otherwise. It reports whether it
// answered the whole request (a preflight).
func (g *Gateway) cors(w http.ResponseWriter, r *http.Request, rt *route) bool {
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	for _, a := range g.all {
		if a.CORS == nil {
			continue
		}
		rt.api = a // a panic in its policy is answered in its envelope
		mine, err := a.CORS.CORS(w, r, preflight)
		rt.api = nil
		if err != nil {
			g.writeError(w, r, a, a.h.Protocol(r), err)
			return true
		}
		if mine {
			return preflight
		}
	}
	setCORSHeaders(w.Header(), r)
	if preflight {
		w.WriteHeader(http.StatusOK)
	}
	return preflight
}

// servePlane hands a request to a data plane, authenticated first when
// the plane asks for it.
func (g *Gateway) servePlane(w http.ResponseWriter, r *http.Request, reqID string, rt *route, p service.Plane) {
	if p.Auth == service.AuthSigV4 {
		a := g.bySigning[p.API]
		if a == nil {
			g.logger.Error("data plane names an unknown API", "plane", p.Name, "api", p.API)
			svc, proto := callerEnvelope(r)
			awsproto.WriteError(w, svc, proto, awsproto.InternalFailure(), reqID, r.Method == http.MethodHead)
			return
		}
		rt.api = a
		auth, parseErr := parseAuth(r)
		var ok bool
		if r, ok = g.authenticate(w, r, reqID, a, "", auth, parseErr); !ok {
			return
		}
	}
	if p.Intercepted && len(g.cfg.Interceptors) > 0 {
		r = r.WithContext(awsproto.WithInterceptors(r.Context(), g.cfg.Interceptors...))
	}
	p.Handler.ServeHTTP(w, r)
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

// originOf is where r came from, for IAM conditions and CloudTrail.
func originOf(r *http.Request, now time.Time) overcast.Origin {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	return overcast.Origin{SourceIP: ip, UserAgent: r.UserAgent(), SecureTransport: r.TLS != nil, Time: now}
}
