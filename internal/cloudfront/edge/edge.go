package edge

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"overcast/internal/cloudfront/edge/cache"
	"overcast/internal/cloudfront/signed"
)

// DomainSuffix ends every distribution's DomainName.
const DomainSuffix = ".cloudfront.localhost"

// POP is one edge location: its CloudFront-like code (IAD89-C1) and the
// countries whose viewers it serves.
type POP struct {
	Code      string
	Countries []string
}

// DefaultPOPs are the edge locations of an Edge whose Config names none;
// the first serves the viewers no other claims.
var DefaultPOPs = []POP{
	{Code: "IAD89-C1", Countries: []string{"US", "CA", "MX"}},
	{Code: "FRA56-P1", Countries: []string{"DE", "FR", "GB", "IE", "NL", "IT", "ES", "PL", "SE", "CH", "AT", "BE"}},
	{Code: "NRT57-P2", Countries: []string{"JP", "KR", "CN", "TW", "HK", "SG", "IN"}},
	{Code: "GRU3-C1", Countries: []string{"BR", "AR", "CL", "CO", "PE"}},
	{Code: "SYD62-P1", Countries: []string{"AU", "NZ"}},
}

// Config is what an Edge is built from.
type Config struct {
	POPs []POP // nil: DefaultPOPs
	// DefaultPOP is the code of the POP for viewers whose country no POP
	// lists (and for every viewer when CountryOf is nil); "": the first.
	DefaultPOP string
	// The cache of each POP: memory bound (0: 256 MiB), and a disk tier
	// under DataDir/<pop code> for objects larger than DiskThreshold
	// (0: 1 MiB), up to MaxDisk bytes (0: 4 GiB).
	MaxMemory, MaxDisk, DiskThreshold int64
	DataDir                           string
	Now                               func() time.Time // nil: time.Now
	Logger                            *slog.Logger     // nil: discard
	// CountryOf is the ISO country of a viewer ("" when unknown), for the
	// POP that serves it and for geo restriction; nil: always unknown.
	CountryOf func(r *http.Request, ip netip.Addr) string
	// Buckets serves S3 origins; nil: S3 domains are fetched as custom
	// origins.
	Buckets Buckets
	// HTTPSAddr is where viewers reach distributions over HTTPS, with
	// certificates from Certificates; "" or nil Certificates: no HTTPS.
	HTTPSAddr    string
	Certificates Certificates
	// Logs delivers standard access logs of distributions whose Logging is
	// enabled, every LogInterval (0: 5 minutes) and on Close.
	Logs        LogSink
	LogInterval time.Duration
}

// Edge is CloudFront's data plane: the POPs that answer viewers for every
// deployed distribution.
type Edge struct {
	cfg        Config
	now        func() time.Time
	log        *slog.Logger
	pops       []*pop
	byCountry  map[string]*pop
	defaultPOP *pop
	verifier   *signed.Verifier // remembers verified signatures across requests

	mu     sync.Mutex                 // serialises Deploy and Remove
	routes atomic.Pointer[routeTable] // read on every request without a lock

	https    *httpsListener
	closing  context.Context // ends background refreshes on Close
	shutdown context.CancelFunc
}

// pop is one edge location and its cache.
type pop struct {
	code  string
	via   string // Via: 1.1 <hex>.cloudfront.net (CloudFront)
	cache *cache.Cache
	// The header values of every answer, made once.
	viaValue, codeValue []string
}

// routeTable is the deployed set: every host a distribution answers on.
type routeTable struct {
	byHost map[string]*deployment
	byID   map[string]*deployment
}

// New builds an Edge with an empty cache on each POP.
func New(cfg Config) (*Edge, error) {
	e := &Edge{cfg: cfg, now: cfg.Now, log: cfg.Logger, byCountry: map[string]*pop{}}
	if e.now == nil {
		e.now = time.Now
	}
	e.verifier = signed.NewVerifier(e.now)
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	cfg.MaxMemory = cmp.Or(cfg.MaxMemory, 256<<20)
	cfg.MaxDisk = cmp.Or(cfg.MaxDisk, 4<<30)
	cfg.DiskThreshold = cmp.Or(cfg.DiskThreshold, 1<<20)
	pops := cfg.POPs
	if len(pops) == 0 {
		pops = DefaultPOPs
	}
	for _, p := range pops {
		dir := ""
		if cfg.DataDir != "" {
			dir = filepath.Join(cfg.DataDir, p.Code)
		}
		sum := fnv.New128a()
		sum.Write([]byte(p.Code))
		c, err := cache.New(cache.Config{
			MaxMemory: cfg.MaxMemory, DiskDir: dir, MaxDisk: cfg.MaxDisk, DiskThreshold: cfg.DiskThreshold, Now: e.now,
		})
		if err != nil {
			e.closeCaches()
			return nil, fmt.Errorf("edge: cache of %s: %w", p.Code, err)
		}
		pp := &pop{code: p.Code, via: "1.1 " + hex.EncodeToString(sum.Sum(nil)) + ".cloudfront.net (CloudFront)", cache: c}
		pp.viaValue, pp.codeValue = []string{pp.via}, []string{pp.code}
		e.pops = append(e.pops, pp)
		for _, c := range p.Countries {
			e.byCountry[strings.ToUpper(c)] = pp
		}
		if p.Code == cfg.DefaultPOP {
			e.defaultPOP = pp
		}
	}
	if e.defaultPOP == nil {
		if cfg.DefaultPOP != "" {
			return nil, fmt.Errorf("edge: default POP %q is not one of the POPs", cfg.DefaultPOP)
		}
		e.defaultPOP = e.pops[0]
	}
	e.closing, e.shutdown = context.WithCancel(context.Background())
	e.routes.Store(&routeTable{byHost: map[string]*deployment{}, byID: map[string]*deployment{}})
	if cfg.Logs != nil {
		go e.deliverLogs(cmp.Or(cfg.LogInterval, 5*time.Minute))
	}
	if cfg.HTTPSAddr != "" && cfg.Certificates != nil {
		if err := e.listenHTTPS(cfg.HTTPSAddr, cfg.Certificates); err != nil {
			e.closeCaches()
			return nil, err
		}
	}
	return e, nil
}

// Deploy makes d's configuration live on every POP: requests that start
// after it returns are served by it. Cached objects stay: CloudFront keeps
// its caches across configuration changes.
func (e *Edge) Deploy(ctx context.Context, d *Distribution) error {
	dep, err := e.compile(d)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.routes.Load()
	next := old.without(d.ID)
	next.byID[d.ID] = dep
	next.byHost[strings.ToLower(d.ID)+DomainSuffix] = dep
	if d.DomainName != "" {
		next.byHost[strings.ToLower(d.DomainName)] = dep
	}
	if a := d.Config.Aliases; a != nil {
		for _, alias := range a.Items {
			next.byHost[strings.ToLower(alias)] = dep
		}
	}
	e.routes.Store(next)
	if prev := old.byID[d.ID]; prev != nil {
		e.retire(prev)
	}
	return nil
}

// Remove stops serving the distribution id.
func (e *Edge) Remove(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.routes.Load()
	e.routes.Store(old.without(id))
	if prev := old.byID[id]; prev != nil {
		e.retire(prev)
	}
	return nil
}

// retire releases what a replaced or removed deployment holds: its origin
// connections, and the log lines it still has, delivered now.
func (e *Edge) retire(dep *deployment) {
	dep.closeIdle()
	if dep.logging != nil && e.cfg.Logs != nil {
		go func() {
			if err := dep.logging.flush(e.closing, e.cfg.Logs, e.now()); err != nil {
				e.log.Warn("edge: access logs not delivered", "distribution", dep.dist.ID, "err", err)
			}
		}()
	}
}

// without is a copy of t with distribution id removed.
func (t *routeTable) without(id string) *routeTable {
	next := &routeTable{byHost: make(map[string]*deployment, len(t.byHost)), byID: make(map[string]*deployment, len(t.byID))}
	for h, d := range t.byHost {
		if d.dist.ID != id {
			next.byHost[h] = d
		}
	}
	for i, d := range t.byID {
		if i != id {
			next.byID[i] = d
		}
	}
	return next
}

// closeIdle releases the keep-alive connections of a replaced deployment.
func (dep *deployment) closeIdle() {
	for _, b := range dep.behaviors {
		for _, o := range b.target.members {
			o.client.CloseIdleConnections()
		}
	}
}

// Invalidate drops the objects of distributionID under paths (a trailing
// `*` is a prefix) from every POP, and returns once all have.
func (e *Edge) Invalidate(ctx context.Context, distributionID string, paths []string) error {
	var wg sync.WaitGroup
	for _, p := range e.pops {
		wg.Go(func() {
			for _, path := range paths {
				if !strings.HasPrefix(path, "/") {
					path = "/" + path
				}
				p.cache.Invalidate(distributionID + path)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// Serves reports whether host (any case, with or without a port) is the
// domain of a deployed distribution or one of its aliases.
func (e *Edge) Serves(host string) bool {
	return e.lookup(host) != nil
}

func (e *Edge) lookup(host string) *deployment {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	host = strings.TrimSuffix(host, ".")
	rt := e.routes.Load()
	if dep := rt.byHost[host]; dep != nil {
		return dep
	}
	host = strings.ToLower(host)
	if dep := rt.byHost[host]; dep != nil {
		return dep
	}
	// A wildcard alias (*.example.com) covers one more label.
	if _, parent, ok := strings.Cut(host, "."); ok {
		return rt.byHost["*."+parent]
	}
	return nil
}

// Close stops background refreshes and releases origin connections.
func (e *Edge) Close() error {
	e.shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errs := []error{e.FlushLogs(ctx)}
	if e.https != nil {
		errs = append(errs, e.https.close())
	}
	for _, dep := range e.routes.Load().byID {
		dep.closeIdle()
	}
	return errors.Join(append(errs, e.closeCaches())...)
}

func (e *Edge) closeCaches() error {
	var errs []error
	for _, p := range e.pops {
		errs = append(errs, p.cache.Close())
	}
	return errors.Join(errs...)
}

// popFor is the POP that serves a viewer from country.
func (e *Edge) popFor(country string) *pop {
	if p := e.byCountry[country]; p != nil {
		return p
	}
	return e.defaultPOP
}
