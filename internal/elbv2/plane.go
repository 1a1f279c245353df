package elbv2

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	api "overcast/internal/api/elbv2"
	"overcast/internal/clock"
	"overcast/internal/http1"
)

// plane is the data plane: the servers listeners are served on and the
// routing table they read, rebuilt whole on every change and swapped in
// atomically, so that requests never wait on the API.
type plane struct {
	logger *slog.Logger
	clock  clock.Clock
	host   string // the shared address, where Host tells load balancers apart

	routes atomic.Pointer[routes]

	mu       sync.Mutex
	servers  map[string]io.Closer  // by listen address
	serveTLS map[string]bool       // listen addresses served with TLS
	failed   map[string]string     // listen addresses that could not be bound, and why
	proxies  map[string]*proxy     // by load balancer ARN, kept across changes: keep-alive pools to its targets
	traffic  map[string]*traffic   // by load balancer or target group ARN, kept across changes
	logs     map[string]*accessLog // by load balancer ARN, kept across changes
	closed   bool
}

type routes struct {
	byHost map[string]*lbRoutes  // DNS name
	byIP   map[string]*lbRoutes  // one of the load balancer's own addresses
	byPort map[int32][]*lbRoutes // load balancers with a listener on a port
}

type lbRoutes struct {
	arn, dnsName      string
	xffMode           string
	xffClientPort     bool
	preserveHost      bool
	listeners         map[int32]*listenerRoutes
	firstListenerPort int32
	proxy             *proxy
	traffic           *traffic       // answers made without a target group
	groups            []*groupRoutes // the groups its rules forward to
	accessLog         *accessLog     // nil unless access logs are enabled
	logName           string         // app/name/id, as access log entries name it
}

type listenerRoutes struct {
	certs    []*tls.Certificate // HTTPS: the default first
	port     int32
	portText string // X-Forwarded-Port
	scheme   string // X-Forwarded-Proto: the protocol in lower case
	protocol string
	rules    []compiledRule // by priority, the default rule last
}

type compiledRule struct {
	priority string // "0" for the default rule, as access logs say
	match    []requestMatcher
	action   compiledAction
}

type compiledAction struct {
	kind     string // forward, redirect, fixed-response
	fixed    *api.FixedResponseActionConfig
	redirect *api.RedirectActionConfig
	groups   []weightedGroup
	total    int
	// groupStickiness, when positive, keeps a client on the group it was
	// first sent to for that long (the AWSALBTG cookie).
	groupStickiness time.Duration
}

type weightedGroup struct {
	tg     *groupRoutes
	weight int
}

// groupRoutes is a target group as the data plane sees it.
type groupRoutes struct {
	arn        string
	registered int // targets registered and not draining
	targets    []*targetRoutes
	next       atomic.Uint64 // round robin
	https      bool
	// stickiness, when positive, keeps a client on one target for that
	// long (the AWSALB cookie).
	stickiness time.Duration
	// leastOutstanding picks the usable target with the fewest requests
	// in flight instead of the next one round robin.
	leastOutstanding bool
	// slowStart, when positive, ramps a newly healthy target's share of
	// requests up linearly over that long.
	slowStart time.Duration
	traffic   *traffic
}

type targetRoutes struct {
	addr     string
	health   *targetHealth
	inflight atomic.Int64
}

func newPlane(logger *slog.Logger, c clock.Clock, host string) *plane {
	p := &plane{logger: logger, clock: c, host: host, servers: map[string]io.Closer{}, serveTLS: map[string]bool{}, failed: map[string]string{},
		proxies: map[string]*proxy{}, traffic: map[string]*traffic{}, logs: map[string]*accessLog{}}
	p.routes.Store(&routes{})
	return p
}

// update rebuilds the routing table from the store's records and binds or
// closes listen addresses to match.
func (p *plane) update(lbs []loadBalancer, tgs []targetGroup, health *healthChecker, certs map[string]*tls.Certificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	groups := map[string]*groupRoutes{}
	for _, tg := range tgs {
		g := &groupRoutes{arn: tg.ARN, https: tg.Protocol == "HTTPS",
			leastOutstanding: tg.Attributes["load_balancing.algorithm.type"] == "least_outstanding_requests", traffic: p.trafficOf(tg.ARN)}
		if secs, _ := strconv.Atoi(tg.Attributes["slow_start.duration_seconds"]); secs > 0 {
			g.slowStart = time.Duration(secs) * time.Second
		}
		if tg.Attributes["stickiness.enabled"] == "true" && tg.Attributes["stickiness.type"] == "lb_cookie" {
			secs, _ := strconv.Atoi(tg.Attributes["stickiness.lb_cookie.duration_seconds"])
			g.stickiness = time.Duration(secs) * time.Second
		}
		key := scopeOfRecord(tg.ARN).Key(tg.ARN)
		for _, t := range tg.Targets {
			if !t.DrainUntil.IsZero() {
				continue
			}
			g.registered++
			g.targets = append(g.targets, &targetRoutes{addr: t.address(), health: health.entry(key, t)})
		}
		groups[tg.ARN] = g
	}
	r := &routes{byHost: map[string]*lbRoutes{}, byIP: map[string]*lbRoutes{}, byPort: map[int32][]*lbRoutes{}}
	want := map[string]bool{} // listen address: with TLS
	for _, lb := range lbs {
		lr := &lbRoutes{arn: lb.ARN, dnsName: lb.DNSName, listeners: map[int32]*listenerRoutes{},
			xffMode: lb.Attributes["routing.http.xff_header_processing.mode"], xffClientPort: lb.Attributes["routing.http.xff_client_port.enabled"] == "true",
			preserveHost: lb.Attributes["routing.http.preserve_host_header.enabled"] == "true"}
		idle, _ := strconv.Atoi(lb.Attributes["idle_timeout.timeout_seconds"])
		lr.proxy = p.proxy(lb.ARN, time.Duration(idle)*time.Second)
		lr.traffic = p.trafficOf(lb.ARN)
		lr.logName = strings.TrimPrefix(lbResource(lb.ARN), "loadbalancer/")
		if lb.Attributes["access_logs.s3.enabled"] == "true" {
			lr.accessLog = p.logOf(lb.ARN)
			ip := p.host
			if len(lb.Zones) > 0 {
				ip = lb.Zones[0].IP
			}
			lr.accessLog.configure(lb.Attributes["access_logs.s3.bucket"], lb.Attributes["access_logs.s3.prefix"], ip)
		}
		for _, arn := range lb.targetGroups() {
			if g := groups[arn]; g != nil {
				lr.groups = append(lr.groups, g)
			}
		}
		r.byHost[strings.ToLower(lb.DNSName)] = lr
		for _, z := range lb.Zones {
			r.byIP[z.IP] = lr
		}
		for _, l := range lb.Listeners {
			lr.listeners[l.Port] = compileListener(l, groups)
			for _, arn := range l.Certificates {
				if c := certs[arn]; c != nil {
					lr.listeners[l.Port].certs = append(lr.listeners[l.Port].certs, c)
				}
			}
			if lr.firstListenerPort == 0 || l.Port < lr.firstListenerPort {
				lr.firstListenerPort = l.Port
			}
			r.byPort[l.Port] = append(r.byPort[l.Port], lr)
			https := l.Protocol == "HTTPS"
			want[joinHostPort(p.host, l.Port)] = https
			for _, z := range lb.Zones {
				want[joinHostPort(z.IP, l.Port)] = https
			}
		}
	}
	for arn, px := range p.proxies {
		if !slices.ContainsFunc(lbs, func(lb loadBalancer) bool { return lb.ARN == arn }) {
			px.close()
			delete(p.proxies, arn)
		}
	}
	p.routes.Store(r)
	p.bind(want)
}

// accessLogs are the load balancers' access logs, by ARN; those of load
// balancers that are gone are handed over one last time.
func (p *plane) accessLogs() map[string]*accessLog {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]*accessLog, len(p.logs))
	live := map[string]bool{}
	if rt := p.routes.Load(); rt != nil {
		for _, lr := range rt.byHost {
			live[lr.arn] = true
		}
	}
	for arn, a := range p.logs {
		out[arn] = a
		if !live[arn] {
			delete(p.logs, arn)
		}
	}
	return out
}

// trafficOf is the counters of a load balancer or target group, made on
// first use.
func (p *plane) trafficOf(arn string) *traffic { return entryOf(p.traffic, arn) }

// entryOf is m's entry for key, a new zero one on first use.
func entryOf[V any](m map[string]*V, key string) *V {
	v := m[key]
	if v == nil {
		v = new(V)
		m[key] = v
	}
	return v
}

// clientIdle is how long a client connection may stay without a read or
// write (ALB's client keep-alive, bounded by its idle timeout).
const clientIdle = 60 * time.Second

// proxy is the load balancer's proxy, made again only when its idle
// timeout changes.
func (p *plane) proxy(arn string, idle time.Duration) *proxy {
	if px := p.proxies[arn]; px != nil && px.idle == idle {
		return px
	}
	if px := p.proxies[arn]; px != nil {
		px.close()
	}
	px := newProxy(idle, p.clock)
	p.proxies[arn] = px
	return px
}

func compileListener(l listener, groups map[string]*groupRoutes) *listenerRoutes {
	lr := &listenerRoutes{port: l.Port, portText: strconv.Itoa(int(l.Port)), protocol: l.Protocol, scheme: strings.ToLower(l.Protocol)}
	for _, r := range l.Rules {
		lr.rules = append(lr.rules, compiledRule{priority: strconv.Itoa(int(r.Priority)), match: compileConditions(r.Conditions),
			action: compileActions(r.Actions, groups)})
	}
	lr.rules = append(lr.rules, compiledRule{priority: "0", action: compileActions(l.DefaultActions, groups)})
	return lr
}

// compileActions keeps a rule's terminal action: the only kind an HTTP
// listener runs.
func compileActions(actions api.Actions, groups map[string]*groupRoutes) compiledAction {
	for _, a := range actions {
		switch deref(a.Type) {
		case "fixed-response":
			return compiledAction{kind: "fixed-response", fixed: a.FixedResponseConfig}
		case "redirect":
			return compiledAction{kind: "redirect", redirect: a.RedirectConfig}
		case "forward":
			ca := compiledAction{kind: "forward"}
			for _, t := range a.ForwardConfig.TargetGroups {
				g := groups[deref(t.TargetGroupArn)]
				if g == nil {
					g = &groupRoutes{arn: deref(t.TargetGroupArn)}
				}
				ca.groups = append(ca.groups, weightedGroup{tg: g, weight: int(deref(t.Weight))})
				ca.total += int(deref(t.Weight))
			}
			if sc := a.ForwardConfig.TargetGroupStickinessConfig; sc != nil && deref(sc.Enabled) {
				ca.groupStickiness = time.Duration(deref(sc.DurationSeconds)) * time.Second
			}
			return ca
		}
	}
	return compiledAction{}
}

// bind serves every address in want and stops serving the others. An
// address that cannot be bound (taken, or a privileged port) is logged
// once and tried again on the next change: the API call that made the
// listener has succeeded all the same.
func (p *plane) bind(want map[string]bool) {
	for addr, srv := range p.servers {
		if https, ok := want[addr]; !ok || https != p.serveTLS[addr] {
			srv.Close()
			delete(p.servers, addr)
		}
	}
	for addr := range p.failed {
		if _, ok := want[addr]; !ok {
			delete(p.failed, addr)
		}
	}
	for addr, https := range want {
		if p.servers[addr] != nil {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if p.failed[addr] != err.Error() {
				p.logger.Warn("elbv2: cannot serve a listener", "addr", addr, "err", err)
				p.failed[addr] = err.Error()
			}
			continue
		}
		delete(p.failed, addr)
		p.serveTLS[addr] = https
		if !https {
			p.servers[addr] = http1.Serve(ln, p.serveAt, http1.Options{Idle: clientIdle, Logger: p.logger,
				BadRequest: func(w http.ResponseWriter) { writeALBError(w, http.StatusBadRequest) }})
			continue
		}
		srv := &http.Server{Handler: http.HandlerFunc(p.serveListener), ReadHeaderTimeout: 60 * time.Second,
			ErrorLog: slog.NewLogLogger(p.logger.Handler(), slog.LevelDebug), TLSConfig: &tls.Config{GetCertificate: p.certificate}}
		p.servers[addr] = srv
		go srv.ServeTLS(ln, "", "")
	}
}

// certificate chooses what an HTTPS listener presents: the certificates
// of the load balancer the address or the server name (SNI) points to,
// the one matching the name, else the listener's default.
func (p *plane) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	ip, portText, _ := net.SplitHostPort(hello.Conn.LocalAddr().String())
	port, _ := strconv.Atoi(portText)
	rt := p.routes.Load()
	lb := rt.byIP[ip]
	if lb == nil {
		lb = rt.byHost[strings.ToLower(hello.ServerName)]
	}
	if lb == nil && len(rt.byPort[int32(port)]) > 0 {
		lb = rt.byPort[int32(port)][0]
	}
	if lb == nil || lb.listeners[int32(port)] == nil || len(lb.listeners[int32(port)].certs) == 0 {
		return nil, errors.New("elbv2: no certificate for this listener")
	}
	certs := lb.listeners[int32(port)].certs
	for _, c := range certs {
		if hello.SupportsCertificate(c) == nil {
			return c, nil
		}
	}
	return certs[0], nil
}

func (p *plane) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, srv := range p.servers {
		srv.Close()
		delete(p.servers, addr)
	}
	for _, px := range p.proxies {
		px.close()
	}
}

// serveListener serves a request that reached one of the listen
// addresses: the load balancer is the one owning the address, else the
// one whose DNS name is the Host, else the only one on the port.
func (p *plane) serveListener(w http.ResponseWriter, r *http.Request) {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	p.serveAt(w, r, local)
}

// serveAt serves a request that reached the listen address local.
func (p *plane) serveAt(w http.ResponseWriter, r *http.Request, local net.Addr) {
	ip, portStr, _ := net.SplitHostPort(local.String())
	port, _ := strconv.Atoi(portStr)
	rt := p.routes.Load()
	lb := rt.byIP[ip]
	if lb == nil {
		lb = rt.byHost[hostOnly(r.Host)]
	}
	if lb == nil && len(rt.byPort[int32(port)]) == 1 {
		lb = rt.byPort[int32(port)][0]
	}
	if lb == nil || lb.listeners[int32(port)] == nil {
		writeALBError(w, http.StatusServiceUnavailable)
		return
	}
	lb.serve(w, r, lb.listeners[int32(port)])
}

// gatewayHandler serves requests for a load balancer's DNS name that come
// to overcast's own port: the listener is the one on the port Host names,
// else the load balancer's first.
func (p *plane) gatewayHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lb := p.routes.Load().byHost[hostOnly(r.Host)]
		if lb == nil || len(lb.listeners) == 0 {
			writeALBError(w, http.StatusServiceUnavailable)
			return
		}
		l := lb.listeners[lb.firstListenerPort]
		if _, port, err := net.SplitHostPort(r.Host); err == nil {
			if n, _ := strconv.Atoi(port); lb.listeners[int32(n)] != nil {
				l = lb.listeners[int32(n)]
			}
		}
		lb.serve(w, r, l)
	})
}

func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
