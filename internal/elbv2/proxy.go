package elbv2

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"time"

	api "overcast/internal/api/elbv2"
	"overcast/internal/clock"
	"overcast/internal/http1"
)

// albPages are the bodies of the responses the load balancer makes up
// itself, as ALB words them.
var albPages = map[int]string{
	http.StatusBadRequest:         "400 Bad Request",
	http.StatusMethodNotAllowed:   "405 Method Not Allowed",
	http.StatusBadGateway:         "502 Bad Gateway",
	http.StatusServiceUnavailable: "503 Service Temporarily Unavailable",
	http.StatusGatewayTimeout:     "504 Gateway Time-out",
}

// writeALBError answers with one of ALB's own error pages.
func writeALBError(w http.ResponseWriter, code int) {
	title := albPages[code]
	h := w.Header()
	h.Set("Server", "awselb/2.0")
	h.Set("Content-Type", "text/html")
	body := "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n</body>\r\n</html>\r\n"
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// proxy forwards requests to targets over one load balancer's pool of
// keep-alive connections. Plain requests take a lean path straight onto
// the transport; upgrades (WebSockets) go through httputil.ReverseProxy,
// which knows how to splice the two connections.
type proxy struct {
	idle      time.Duration
	pool      *connPool
	transport *http.Transport
	upgrades  *httputil.ReverseProxy
	clock     clock.Clock
}

type forwardKey struct{}

// forward is what the proxy needs to know of a request it forwards.
type forward struct {
	lb       *lbRoutes
	listener *listenerRoutes
	target   string
	https    bool
	log      *logEntry // nil unless the load balancer logs its requests
}

var bufferPool = &bytePool{pool: sync.Pool{New: func() any { return new([32 * 1024]byte) }}}

type bytePool struct{ pool sync.Pool }

func (b *bytePool) Get() []byte  { return b.pool.Get().(*[32 * 1024]byte)[:] }
func (b *bytePool) Put(p []byte) { b.pool.Put((*[32 * 1024]byte)(p)) }

// newProxy makes a load balancer's proxy, whose idle timeout bounds the
// wait for a target's answer (504 after it).
func newProxy(idle time.Duration, c clock.Clock) *proxy {
	t := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   maxIdlePerTarget,
		IdleConnTimeout:       idle,
		ResponseHeaderTimeout: idle,
		DisableCompression:    true,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: true}, // ALB does not verify targets' certificates
	}
	p := &proxy{idle: idle, pool: newConnPool(idle), transport: t, clock: c}
	p.upgrades = &httputil.ReverseProxy{Transport: t, ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { proxyError(w, r, err) }, BufferPool: bufferPool, ErrorLog: log.New(io.Discard, "", 0),
		Rewrite: func(pr *httputil.ProxyRequest) {
			f := pr.In.Context().Value(forwardKey{}).(*forward)
			pr.Out.URL.Scheme, pr.Out.URL.Host = f.scheme(), f.target
			pr.Out.Host = forwardedHost(pr.In.Host, f.listener.port, f.lb.preserveHost)
			p.addHeaders(pr.Out.Header, pr.In, f)
		}}
	return p
}

func (f *forward) scheme() string {
	if f.https {
		return "https"
	}
	return "http"
}

// hopHeaders are the hop-by-hop headers a proxy does not pass on.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade"}

// serve forwards r to the target and copies the answer back. It returns
// the answer's status and whether the target gave it (else the load
// balancer did).
func (p *proxy) serve(w http.ResponseWriter, r *http.Request, f *forward) (int, bool) {
	if r.Header.Get("Upgrade") != "" {
		p.upgrades.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardKey{}, f)))
		return http.StatusSwitchingProtocols, true
	}
	out := &outgoing{in: r, host: forwardedHost(r.Host, f.listener.port, f.lb.preserveHost), added: p.forwardedHeaders(r, f)}
	if f.log != nil {
		f.log.trace = out.added.trace
	}
	if cw, ok := w.(*http1.Response); ok {
		return p.relay(cw, r, f, out)
	}
	var resp *http.Response
	c, err := p.pool.roundTrip(r.Context(), f.target, f.https, out, func(br *bufio.Reader) (err error) {
		resp, err = http.ReadResponse(br, r)
		return err
	})
	if err != nil {
		return proxyError(w, r, err), false
	}
	removeHopHeaders(resp.Header)
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	complete := copyBody(w, resp)
	resp.Body.Close()
	p.pool.release(f.target, c, complete && !resp.Close)
	return resp.StatusCode, true
}

// copyBody copies a target's answer to the client and reports whether it
// was read to its end (so that the connection can serve another request).
func copyBody(w http.ResponseWriter, resp *http.Response) bool {
	buf := bufferPool.Get()
	defer bufferPool.Put(buf)
	if resp.ContentLength != -1 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		_, err := io.CopyBuffer(w, resp.Body, buf)
		return err == nil
	}
	// A response of unknown length may be a stream: pass each piece on
	// as it comes.
	flusher, _ := w.(http.Flusher)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return false
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err != nil {
			return err == io.EOF
		}
	}
}

func (p *proxy) close() {
	p.pool.close()
	p.transport.CloseIdleConnections()
}

func copyHeader(dst, src http.Header) {
	for k, vv := range src {
		dst[k] = append(dst[k], vv...)
	}
}

func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		delete(h, name)
	}
}

// forwarded is what ALB adds to a request: X-Forwarded-For (none when
// empty), -Proto and -Port, and X-Amzn-Trace-Id.
type forwarded struct{ xff, proto, port, trace string }

func (p *proxy) forwardedHeaders(in *http.Request, f *forward) forwarded {
	client, clientPort, _ := net.SplitHostPort(in.RemoteAddr)
	prior := in.Header["X-Forwarded-For"]
	fh := forwarded{proto: f.listener.scheme, port: f.listener.portText, trace: traceHeader(in.Header.Get("X-Amzn-Trace-Id"), p.clock.Now())}
	switch f.lb.xffMode {
	case "preserve":
		fh.xff = strings.Join(prior, ", ")
	case "remove":
	default:
		fh.xff = client
		if f.lb.xffClientPort {
			fh.xff = net.JoinHostPort(client, clientPort)
		}
		if len(prior) > 0 {
			fh.xff = strings.Join(prior, ", ") + ", " + fh.xff
		}
	}
	return fh
}

// addHeaders sets in h the headers ALB adds (for upgrades, which go
// through httputil.ReverseProxy).
func (p *proxy) addHeaders(h http.Header, in *http.Request, f *forward) {
	fh := p.forwardedHeaders(in, f)
	delete(h, "X-Forwarded-For")
	if fh.xff != "" {
		h["X-Forwarded-For"] = []string{fh.xff}
	}
	h["X-Forwarded-Proto"] = []string{fh.proto}
	h["X-Forwarded-Port"] = []string{fh.port}
	h["X-Amzn-Trace-Id"] = []string{fh.trace}
}

// forwardedHost is the Host a target sees: unless the load balancer
// preserves it, the listener's port is added on ports other than 80 and
// 443 and removed on those.
func forwardedHost(host string, port int32, preserve bool) string {
	if preserve {
		return host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if port == 80 || port == 443 {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// traceHeader is the X-Amzn-Trace-Id a target sees: a new Root when the
// request has none, else a new Self in front (or the old Self replaced),
// other fields kept.
func traceHeader(existing string, now time.Time) string {
	// Trace IDs are per request and need no reproducibility: a fast
	// generator, not the service's ID source.
	var b [35]byte
	id := string(appendTraceID(b[:0], now))
	if existing == "" {
		return "Root=" + id
	}
	fields := strings.Split(existing, ";")
	hasRoot := false
	for i, f := range fields {
		k, _, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch k {
		case "Root":
			hasRoot = true
		case "Self":
			fields[i] = "Self=" + id
			return strings.Join(fields, ";")
		}
	}
	if !hasRoot {
		return "Root=" + id + ";" + existing
	}
	return "Self=" + id + ";" + existing
}

// appendTraceID appends 1-<8 hex epoch seconds>-<24 random hex>.
func appendTraceID(b []byte, now time.Time) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '1', '-')
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[uint32(now.Unix())>>shift&0xf])
	}
	b = append(b, '-')
	r1, r2 := rand.Uint64(), rand.Uint32()
	for shift := 60; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[r1>>shift&0xf])
	}
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[r2>>shift&0xf])
	}
	return b
}

// proxyError answers for a target that failed: 504 when it did not
// connect or answer in time, 502 for anything else it did wrong.
func proxyError(w http.ResponseWriter, r *http.Request, err error) int {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return 460 // the client went away: ALB logs 460, and nobody is left to answer
	}
	code := http.StatusBadGateway
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		code = http.StatusGatewayTimeout
	}
	writeALBError(w, code)
	return code
}

// serve runs the first rule of the listener whose conditions the request
// meets.
func (lb *lbRoutes) serve(w http.ResponseWriter, r *http.Request, l *listenerRoutes) {
	if lb.accessLog != nil {
		lb.serveLogged(w, r, l)
		return
	}
	lb.route(w, r, l, nil)
}

// route serves a request, noting in e (when not nil) what the access log
// tells of it.
func (lb *lbRoutes) route(w http.ResponseWriter, r *http.Request, l *listenerRoutes, e *logEntry) {
	if r.Method == http.MethodTrace {
		writeALBError(w, http.StatusMethodNotAllowed)
		lb.traffic.count(http.StatusMethodNotAllowed, false, 0)
		return
	}
	host := hostOnly(r.Host)
	for _, rule := range l.rules {
		if matchAll(rule.match, r, host) {
			if e != nil {
				e.priority, e.action = rule.priority, rule.action.kind
			}
			lb.run(w, r, l, rule.action, e)
			return
		}
	}
	writeALBError(w, http.StatusServiceUnavailable)
	lb.traffic.count(http.StatusServiceUnavailable, false, 0)
}

func matchAll(ms []requestMatcher, r *http.Request, host string) bool {
	for _, m := range ms {
		if !m(r, host) {
			return false
		}
	}
	return true
}

func (lb *lbRoutes) run(w http.ResponseWriter, r *http.Request, l *listenerRoutes, a compiledAction, e *logEntry) {
	switch a.kind {
	case "fixed-response":
		ct := deref(a.fixed.ContentType)
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		code, _ := strconv.Atoi(deref(a.fixed.StatusCode))
		body := deref(a.fixed.MessageBody)
		w.Header().Set("Server", "awselb/2.0")
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(code)
		io.WriteString(w, body)
		lb.traffic.count(code, false, 0)
	case "redirect":
		code := http.StatusMovedPermanently
		if deref(a.redirect.StatusCode) == "HTTP_302" {
			code = http.StatusFound
		}
		w.Header().Set("Server", "awselb/2.0")
		location := redirectLocation(a.redirect, r, l)
		if e != nil {
			e.redirect = location
		}
		w.Header().Set("Location", location)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		lb.traffic.count(code, false, 0)
	case "forward":
		lb.forward(w, r, l, a, e)
	default:
		writeALBError(w, http.StatusServiceUnavailable)
	}
}

// forward picks a target group by weight (or by the group stickiness
// cookie), a target of it, and proxies the request there.
func (lb *lbRoutes) forward(w http.ResponseWriter, r *http.Request, l *listenerRoutes, a compiledAction, e *logEntry) {
	g := pickGroup(w, r, a, lb.proxy.clock.Now())
	if g == nil || g.registered == 0 {
		writeALBError(w, http.StatusServiceUnavailable)
		lb.traffic.count(http.StatusServiceUnavailable, false, 0)
		return
	}
	t := g.pick(w, r, lb.proxy.clock.Now())
	t.inflight.Add(1)
	defer t.inflight.Add(-1)
	start := time.Now() // a measured duration: real time, whatever the service's clock
	code, fromTarget := lb.proxy.serve(w, r, &forward{lb: lb, listener: l, target: t.addr, https: g.https, log: e})
	took := time.Since(start)
	g.traffic.count(code, fromTarget, took)
	if e != nil {
		e.target, e.group, e.targetTime = t.addr, g.arn, took
		if fromTarget {
			e.targetStatus = code
		}
	}
}

func pickGroup(w http.ResponseWriter, r *http.Request, a compiledAction, now time.Time) *groupRoutes {
	if len(a.groups) == 1 {
		return a.groups[0].tg
	}
	if a.total == 0 {
		return nil
	}
	if a.groupStickiness > 0 {
		if c, err := r.Cookie("AWSALBTG"); err == nil {
			arn, _ := base64.RawURLEncoding.DecodeString(c.Value)
			for _, wg := range a.groups {
				if wg.tg.arn == string(arn) && wg.weight > 0 {
					return wg.tg
				}
			}
		}
	}
	n := rand.IntN(a.total)
	var g *groupRoutes
	for _, wg := range a.groups {
		if n < wg.weight {
			g = wg.tg
			break
		}
		n -= wg.weight
	}
	if a.groupStickiness > 0 {
		setStickyCookies(w, "AWSALBTG", base64.RawURLEncoding.EncodeToString([]byte(g.arn)), now.Add(a.groupStickiness))
	}
	return g
}

// pick chooses a target: the sticky one when the client has a cookie for
// a target still in service, else the next healthy one round robin, else
// (no target healthy) the next of all, as ALB fails open.
func (g *groupRoutes) pick(w http.ResponseWriter, r *http.Request, now time.Time) *targetRoutes {
	anyHealthy := false
	for _, t := range g.targets {
		if t.health.healthy.Load() {
			anyHealthy = true
			break
		}
	}
	usable := func(t *targetRoutes) bool { return !anyHealthy || t.health.healthy.Load() }
	var chosen *targetRoutes
	if g.stickiness > 0 {
		if c, err := r.Cookie("AWSALB"); err == nil {
			addr, _ := base64.RawURLEncoding.DecodeString(c.Value)
			for _, t := range g.targets {
				if t.addr == string(addr) && usable(t) {
					chosen = t
				}
			}
		}
	}
	sticky := chosen != nil
	ramping := g.ramping(now)
	start := int(g.next.Add(1) - 1)
	for i := 0; !sticky && i < len(g.targets) && (chosen == nil || g.leastOutstanding); i++ {
		t := g.targets[(start+i)%len(g.targets)]
		if usable(t) && (chosen == nil || t.inflight.Load() < chosen.inflight.Load()) && !ramping(t) {
			chosen = t
		}
	}
	if chosen == nil { // every usable target passed over while ramping up
		for i := 0; i < len(g.targets) && chosen == nil; i++ {
			if t := g.targets[(start+i)%len(g.targets)]; usable(t) {
				chosen = t
			}
		}
	}
	if g.stickiness > 0 {
		setStickyCookies(w, "AWSALB", base64.RawURLEncoding.EncodeToString([]byte(chosen.addr)), now.Add(g.stickiness))
	}
	return chosen
}

// ramping says, for each target in turn, whether to pass it over because
// it is in slow start: a target that became healthy less than the
// duration ago takes a share of requests growing linearly with the time
// since. Slow start applies only while another target is healthy and
// past it, as ALB's does.
func (g *groupRoutes) ramping(now time.Time) func(*targetRoutes) bool {
	if g.slowStart <= 0 {
		return func(*targetRoutes) bool { return false }
	}
	share := func(t *targetRoutes) float64 {
		since := now.Sub(time.Unix(0, t.health.healthySince.Load()))
		return float64(since) / float64(g.slowStart)
	}
	settled := false
	for _, t := range g.targets {
		if t.health.healthy.Load() && share(t) >= 1 {
			settled = true
			break
		}
	}
	return func(t *targetRoutes) bool {
		if !settled || !t.health.healthy.Load() {
			return false
		}
		s := share(t)
		return s < 1 && rand.Float64() >= s
	}
}

// setStickyCookies sets a stickiness cookie and its CORS twin, with
// Expires as ALB does.
func setStickyCookies(w http.ResponseWriter, name, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Expires: expires, Path: "/"})
	http.SetCookie(w, &http.Cookie{Name: name + "CORS", Value: value, Expires: expires, Path: "/", SameSite: http.SameSiteNoneMode, Secure: true})
}

// redirectLocation fills a redirect's parts, keeping the request's where
// the action leaves #{...} placeholders or nothing.
func redirectLocation(c *api.RedirectActionConfig, r *http.Request, l *listenerRoutes) string {
	sub := strings.NewReplacer("#{protocol}", strings.ToLower(l.protocol), "#{host}", hostOnly(r.Host),
		"#{port}", strconv.Itoa(int(l.port)), "#{path}", strings.TrimPrefix(r.URL.EscapedPath(), "/"), "#{query}", r.URL.RawQuery)
	part := func(p *string, def string) string {
		if p == nil || *p == "" {
			return sub.Replace(def)
		}
		return sub.Replace(*p)
	}
	proto := strings.ToLower(part(c.Protocol, "#{protocol}"))
	port := part(c.Port, "#{port}")
	loc := proto + "://" + part(c.Host, "#{host}")
	if !(proto == "http" && port == "80") && !(proto == "https" && port == "443") {
		loc += ":" + port
	}
	loc += part(c.Path, "/#{path}")
	if q := part(c.Query, "#{query}"); q != "" {
		loc += "?" + q
	}
	return loc
}
