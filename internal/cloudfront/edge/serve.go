package edge

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"overcast/internal/cloudfront/edge/cache"
)

// maxObject is the largest response the edge buffers from an origin.
const maxObject = 1 << 30

// exchange is one viewer request on its way through the pipeline.
type exchange struct {
	e       *Edge
	dep     *deployment
	pop     *pop
	r       *http.Request
	w       http.ResponseWriter
	id      string // X-Amz-Cf-Id
	ip      netip.Addr
	country string
	b       *behavior // the behaviour serving the viewer, once chosen
	now     time.Time // when a hit was looked up, for its Age; zero: read the clock
}

// ServeHTTP answers a viewer.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{e: e, r: r, w: w, id: newRequestID(), pop: e.defaultPOP}
	x.ip = viewerIP(r)
	if e.cfg.CountryOf != nil {
		x.country = e.cfg.CountryOf(r, x.ip)
		x.pop = e.popFor(x.country)
	}
	if x.dep = e.lookup(r.Host); x.dep == nil || !x.dep.enabled {
		x.writeGenerated(http.StatusForbidden, msgBadRequest)
		return
	}
	if t := x.dep.logging; t != nil && e.cfg.Logs != nil {
		start := e.now()
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		x.w = cw
		defer func() { x.logLine(t, r, start, cw) }() // the viewer's request, as it came
	}
	x.serve()
}

func (x *exchange) serve() {
	dep, r := x.dep, x.r
	if dep.geo.blocks(x.country) {
		x.refuse(http.StatusForbidden, msgGeoBlocked)
		return
	}
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	b := dep.behaviorFor(path)
	if r.TLS == nil {
		switch b.viewerProtocol {
		case "redirect-to-https":
			x.redirectToHTTPS()
			return
		case "https-only":
			x.refuse(http.StatusForbidden, msgHTTPSOnly)
			return
		}
	}
	if !b.allowed.has(r.Method) {
		x.refuse(http.StatusForbidden, msgMethodNotAllowed)
		return
	}
	if b.trustedKeys != nil && x.checkSigned(b) {
		return
	}
	if b.viewerRequest != nil {
		var answered bool
		if path, answered = x.runViewerRequest(b.viewerRequest, path); answered {
			return
		}
	}
	if path == "/" && dep.rootObject != "" {
		path = "/" + dep.rootObject // only the root: never a subdirectory
	}
	x.b = b
	ent, xcache := x.through(b, path)
	if page, ok := dep.errorPages[ent.Status]; ok && page.pagePath {
		if x.serveErrorPage(page, ent.Status) {
			return
		}
	}
	x.respond(ent, xcache)
}

// through is the response for path under behaviour b: from the POP's
// cache when it holds a usable copy, else from the origin.
func (x *exchange) through(b *behavior, path string) (*cache.Entry, string) {
	r := x.r
	ae := b.key.acceptEncoding(r.Header)
	if !b.cached.has(r.Method) {
		ent, _, err := x.fetch(r.Context(), b, path, ae, nil, r.Method)
		if err != nil {
			return x.originFailure(err), "Error"
		}
		return ent, "Miss"
	}
	key := x.cacheKey(b, path, ae)
	now := x.e.now()
	stale, ok := x.pop.cache.Get(key)
	if ok && stale.Fresh(now) {
		x.now = now
		return stale, "Hit"
	}
	if ok && stale.StaleWhileRevalidateOK(now) {
		x.refreshInBackground(b, path, ae, key, stale)
		return stale, "Hit"
	}
	if !ok {
		stale = nil
	}
	var refreshed bool
	fx := *x // the fetch may outlive this viewer (it serves the others), and x changes for error pages
	ent, shared, err := x.pop.cache.Fetch(r.Context(), key, func(ctx context.Context) (*cache.Entry, error) {
		ent, ok304, err := fx.fetch(ctx, b, path, ae, stale, http.MethodGet)
		refreshed = ok304
		if err != nil {
			if usable(stale, now) {
				return stale, nil
			}
			return fx.originFailure(err), nil
		}
		if ent.Status >= 500 && usable(stale, now) {
			return stale, nil // an origin error with a copy at hand: the copy
		}
		return ent, nil
	})
	if err != nil {
		return x.originFailure(err), "Error"
	}
	if shared && ent.TTL == 0 && ent.StaleIfError == 0 {
		// Nothing to share after all (no-store, max-age=0): CloudFront
		// collapses only what it may cache.
		if own, _, err := x.fetch(r.Context(), b, path, ae, nil, http.MethodGet); err == nil {
			return own, "Miss"
		}
	}
	switch {
	case ent == stale:
		return ent, "RefreshHit"
	case shared:
		return ent, "Hit"
	case refreshed:
		return ent, "RefreshHit"
	}
	return ent, "Miss"
}

// usable reports whether a stale copy may stand in for an origin that
// failed: within its stale-if-error window, or, without one, always, as
// CloudFront serves an expired object rather than an error.
func usable(stale *cache.Entry, now time.Time) bool {
	if stale == nil || stale.Status >= 400 {
		return false
	}
	if stale.StaleIfError > 0 {
		return stale.StaleIfErrorOK(now)
	}
	return !noStaleOnError(stale)
}

// refreshInBackground fetches a fresh copy of a stale object once, while
// viewers are served the stale one (stale-while-revalidate).
func (x *exchange) refreshInBackground(b *behavior, path, ae, key string, stale *cache.Entry) {
	bg := *x // runs after this viewer is answered
	x.pop.cache.Refresh(x.e.closing, key, func(ctx context.Context) (*cache.Entry, error) {
		ent, _, err := bg.fetch(ctx, b, path, ae, stale, http.MethodGet)
		if err == nil && ent.Status >= 500 {
			return stale, nil
		}
		return ent, err
	})
}

// originFailure is CloudFront's own answer when no origin answered: 504
// for a timeout, 502 otherwise; cached for ErrorCachingMinTTL like the
// origin's own 502 and 504.
func (x *exchange) originFailure(err error) *cache.Entry {
	status, msg := http.StatusBadGateway, msgOriginConnect
	if errors.Is(err, errOriginTimeout) {
		status, msg = http.StatusGatewayTimeout, msgOriginTimeout
	}
	ent := generatedEntry(status, msg, x.id)
	ent.Stored, ent.TTL = x.e.now(), x.dep.errorTTL(status)
	ent.Path = x.dep.dist.ID + x.r.URL.Path
	return ent
}

// errorTTL is how long an error status is cached without a Cache-Control
// of its own: its ErrorCachingMinTTL, 10 s by default.
func (dep *deployment) errorTTL(status int) time.Duration {
	if p, ok := dep.errorPages[status]; ok && p.hasTTL {
		return p.minTTL
	}
	return 10 * time.Second
}

// cacheKey is the key of path under b for this viewer: the distribution,
// the path and what the cache policy keys.
func (x *exchange) cacheKey(b *behavior, path, ae string) string {
	buf := make([]byte, 0, 128)
	buf = append(buf, x.dep.dist.ID...)
	buf = append(buf, path...)
	buf = b.key.appendKey(buf, x.r, ae)
	return string(buf)
}

// fetch asks the behaviour's origin (failing over through an origin
// group) for path. With a stale copy that has a validator, it revalidates:
// a 304 gives the copy back refreshed, and ok304 is true.
func (x *exchange) fetch(ctx context.Context, b *behavior, path, ae string, stale *cache.Entry, method string) (ent *cache.Entry, ok304 bool, err error) {
	members := b.target.members
	failoverOK := method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
	var resp *http.Response
	for i, o := range members {
		out := x.originRequest(b, o, method, path, ae, stale)
		resp, err = o.do(ctx, out, x.r.TLS != nil, x.e.cfg.Buckets)
		last := i == len(members)-1 || !failoverOK
		if last || err == nil && !b.target.failover[resp.StatusCode] {
			break
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	now := x.e.now()
	if resp.StatusCode == http.StatusNotModified && stale != nil {
		return x.refresh(b, stale, resp.Header, now), true, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxObject))
	if err != nil {
		return nil, false, errOriginTimeout
	}
	h := responseHeader(resp.Header)
	meta := cache.Entry{Status: resp.StatusCode, Header: h, Stored: now, Path: x.dep.dist.ID + path}
	x.setTTL(b, &meta, now)
	if b.compress && ae != "" && resp.ContentLength >= 0 {
		body = compress(&meta, body, ae)
	}
	meta.Header["Content-Length"] = []string{strconv.Itoa(len(body))}
	return cache.NewEntry(meta, body), false, nil
}

// refresh is a stale copy made fresh by the origin's 304.
func (x *exchange) refresh(b *behavior, stale *cache.Entry, fresh http.Header, now time.Time) *cache.Entry {
	body := make([]byte, stale.Size)
	if _, err := stale.Body().ReadAt(body, 0); err != nil && err != io.EOF {
		return stale
	}
	meta := *stale
	meta.Header = stale.Header.Clone()
	for k, v := range responseHeader(fresh) {
		meta.Header[k] = v
	}
	meta.Header["Content-Length"] = []string{strconv.Itoa(len(body))}
	meta.Stored = now
	x.setTTL(b, &meta, now)
	return cache.NewEntry(meta, body)
}

// setTTL sets how long an origin response stays: the TTL rules for
// successes, error caching for errors.
func (x *exchange) setTTL(b *behavior, meta *cache.Entry, now time.Time) {
	cc := parseCacheControl(meta.Header.Values("Cache-Control"))
	meta.StaleWhileRevalidate, meta.StaleIfError = cc.staleWhileRevalidate, cc.staleIfError
	if cc.hasStaleIfError && cc.staleIfError == 0 {
		meta.Header = withNoStaleOnError(meta.Header)
	}
	switch meta.Status {
	case 404, 414, 500, 501, 502, 503, 504: // always cached
		meta.TTL = x.dep.errorTTL(meta.Status)
		if cc.hasSMaxAge || cc.hasMaxAge {
			meta.TTL = ttlFromControl(cc, "", now, ttlLimits{Max: 1<<63 - 1})
		}
	case 400, 403, 405, 412, 415: // cached only when the origin says how long
		if cc.hasSMaxAge || cc.hasMaxAge {
			meta.TTL = ttlFromControl(cc, "", now, ttlLimits{Max: 1<<63 - 1})
		}
	default:
		if meta.Status >= 400 {
			return
		}
		meta.TTL = ttlFromControl(cc, meta.Header.Get("Expires"), now, b.ttl)
	}
}

// noStaleHeader marks, inside the cached headers, an origin's
// stale-if-error=0: the copy must never stand in for an error.
const noStaleHeader = "X-Overcast-No-Stale"

func withNoStaleOnError(h http.Header) http.Header {
	h[noStaleHeader] = []string{"1"}
	return h
}

func noStaleOnError(e *cache.Entry) bool { return e.Header[noStaleHeader] != nil }

// hopHeaders are not passed on by a proxy.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// responseHeader is what the edge keeps of an origin's response headers.
func responseHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, name := range hopHeaders {
		delete(out, name)
	}
	delete(out, "Content-Length")
	return out
}

// originRequest is the request CloudFront sends the origin for path: the
// headers, cookies and query strings the cache key and the origin request
// policy forward, Host set to the origin, and CloudFront's own headers.
func (x *exchange) originRequest(b *behavior, o *origin, method, path, ae string, stale *cache.Entry) *http.Request {
	r := x.r
	u := &url.URL{Path: o.path + path}
	if path == r.URL.Path && r.URL.RawPath != "" {
		u.RawPath = o.path + r.URL.RawPath
	}
	u.RawQuery = forwardQuery(r.URL.RawQuery, &b.key.query, &b.forward.query)
	out := &http.Request{Method: method, URL: u, Header: make(http.Header, 8), Host: o.domain, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	for name, values := range r.Header {
		switch name {
		case "Host", "Cookie", "Accept-Encoding", "X-Real-Ip", "Via", "X-Forwarded-For", "X-Amz-Cf-Id",
			"If-None-Match", "If-Modified-Since", "Range":
			continue
		}
		if (b.key.headers.has(name) || b.forward.headers.has(name)) && !strings.HasPrefix(name, "Cloudfront-") {
			out.Header[name] = values
		}
	}
	for _, name := range hopHeaders {
		delete(out.Header, name)
	}
	if b.key.headers.has("Host") || b.forward.headers.has("Host") {
		out.Host = r.Host
	}
	if cookies := forwardCookies(r.Header["Cookie"], &b.key.cookies, &b.forward.cookies); cookies != "" {
		out.Header["Cookie"] = []string{cookies}
	}
	switch {
	case ae != "":
		out.Header["Accept-Encoding"] = []string{ae}
	case b.key.headers.has("Accept-Encoding") || b.forward.headers.has("Accept-Encoding"):
		if v := r.Header["Accept-Encoding"]; v != nil {
			out.Header["Accept-Encoding"] = v
		}
	default:
		out.Header["Accept-Encoding"] = []string{"identity"}
	}
	if out.Header["User-Agent"] == nil {
		out.Header["User-Agent"] = []string{"Amazon CloudFront"}
	}
	out.Header["Via"] = []string{joinHeader(r.Header["Via"], x.pop.via)}
	if x.ip.IsValid() {
		out.Header["X-Forwarded-For"] = []string{joinHeader(r.Header["X-Forwarded-For"], x.ip.String())}
	}
	out.Header["X-Amz-Cf-Id"] = []string{x.id}
	x.addViewerHeaders(out.Header, &b.key.headers, &b.forward.headers)
	for _, h := range o.headers {
		out.Header[h[0]] = []string{h[1]}
	}
	if stale != nil {
		if v := stale.Header.Get("ETag"); v != "" {
			out.Header["If-None-Match"] = []string{v}
		}
		if v := stale.Header.Get("Last-Modified"); v != "" {
			out.Header["If-Modified-Since"] = []string{v}
		}
	}
	if method != http.MethodGet && method != http.MethodHead && r.Body != nil && r.Body != http.NoBody {
		out.Body, out.ContentLength = r.Body, r.ContentLength
	}
	return out
}

func joinHeader(prev []string, v string) string {
	if len(prev) == 0 {
		return v
	}
	return strings.Join(prev, ", ") + ", " + v
}

// forwardQuery keeps the parameters either rule forwards.
func forwardQuery(raw string, key, policy *nameRule) string {
	if raw == "" || key.mode == ruleAll || policy.mode == ruleAll {
		return raw
	}
	if key.mode == ruleNone && policy.mode == ruleNone {
		return ""
	}
	var b []byte
	for param := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(param, "=")
		if param == "" || !key.has(name) && !policy.has(name) {
			continue
		}
		if len(b) > 0 {
			b = append(b, '&')
		}
		b = append(b, param...)
	}
	return string(b)
}

// forwardCookies keeps the cookies either rule forwards.
func forwardCookies(headers []string, key, policy *nameRule) string {
	if key.mode == ruleNone && policy.mode == ruleNone {
		return ""
	}
	var b []byte
	for _, h := range headers {
		for c := range strings.SplitSeq(h, ";") {
			c = strings.TrimSpace(c)
			name, _, _ := strings.Cut(c, "=")
			if c == "" || !key.has(name) && !policy.has(name) {
				continue
			}
			if len(b) > 0 {
				b = append(b, "; "...)
			}
			b = append(b, c...)
		}
	}
	return string(b)
}

// serveErrorPage answers with the custom error page for status: the page
// at its path, fetched through the behaviour for that path, with its
// response code. It reports false when the page itself is not available.
func (x *exchange) serveErrorPage(page errorPage, status int) bool {
	b := x.dep.behaviorFor(page.path)
	r := x.r
	x.r = r.Clone(r.Context())
	x.r.Method, x.r.URL.Path, x.r.URL.RawPath, x.r.URL.RawQuery = http.MethodGet, page.path, "", ""
	ent, _ := x.through(b, page.path)
	x.r = r
	if ent.Status >= 400 {
		return false
	}
	code := status
	if page.code != 0 {
		code = page.code
	}
	x.write(ent, code, "Error")
	return true
}

// refuse answers with CloudFront's own error page for status, or the
// distribution's custom error page for it.
func (x *exchange) refuse(status int, explanation string) {
	if page, ok := x.dep.errorPages[status]; ok && page.pagePath && x.serveErrorPage(page, status) {
		return
	}
	x.writeGenerated(status, explanation)
}

func (x *exchange) writeGenerated(status int, explanation string) {
	ent := generatedEntry(status, explanation, x.id)
	x.write(ent, status, "Error")
}

func (x *exchange) redirectToHTTPS() {
	h := x.w.Header()
	h.Set("Location", "https://"+x.e.httpsHost(x.r.Host)+x.r.URL.RequestURI())
	body := []byte("<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>CloudFront</center>\r\n</body>\r\n</html>\r\n")
	ent := cache.NewEntry(cache.Entry{Header: http.Header{"Content-Type": {"text/html"}, "Server": {"CloudFront"}}}, body)
	x.write(ent, http.StatusMovedPermanently, "Redirect")
}

// respond writes ent to the viewer with CloudFront's headers.
func (x *exchange) respond(ent *cache.Entry, xcache string) {
	if ent.Status >= 400 {
		xcache = "Error"
	}
	x.write(ent, ent.Status, xcache)
}

func (x *exchange) write(ent *cache.Entry, status int, xcache string) {
	h := x.w.Header()
	for k, v := range ent.Header {
		if k != noStaleHeader {
			h[k] = v
		}
	}
	h["X-Cache"] = xcacheValue(xcache)
	h["Via"] = x.pop.viaValue
	h["X-Amz-Cf-Pop"] = x.pop.codeValue
	h["X-Amz-Cf-Id"] = []string{x.id}
	if xcache == "Hit" || xcache == "RefreshHit" {
		now := x.now
		if now.IsZero() {
			now = x.e.now()
		}
		if age := ent.Age(now); age >= time.Second {
			h["Age"] = []string{strconv.FormatInt(int64(age/time.Second), 10)}
		}
	}
	if x.b != nil && x.b.responseHeaders != nil {
		x.b.responseHeaders.apply(h, x.r)
	}
	if x.b != nil && x.b.viewerResponse != nil {
		x.runViewerResponse(ent, status)
		return
	}
	if status == http.StatusOK && notModified(x.r.Header, h) {
		delete(h, "Content-Length")
		x.w.WriteHeader(http.StatusNotModified)
		return
	}
	if status == http.StatusOK && x.r.Header["Range"] != nil {
		if x.writeRange(ent) {
			return
		}
	}
	if h["Content-Length"] == nil { // cached entries carry theirs
		h["Content-Length"] = []string{strconv.FormatInt(ent.Size, 10)}
	}
	x.w.WriteHeader(status)
	if x.r.Method != http.MethodHead {
		ent.WriteTo(x.w)
	}
}

// The X-Cache values, made once: a hit allocates no header values it
// can share.
var xcacheValues = map[string][]string{}

func init() {
	for _, v := range []string{"Hit", "Miss", "RefreshHit", "Error", "Redirect", "FunctionGeneratedResponse",
		"FunctionExecutionError", "FunctionThrottledError"} {
		xcacheValues[v] = []string{v + " from cloudfront"}
	}
}

func xcacheValue(result string) []string {
	if v, ok := xcacheValues[result]; ok {
		return v
	}
	return []string{result + " from cloudfront"}
}

// newRequestID is an X-Amz-Cf-Id: 56 characters of URL-safe base64.
func newRequestID() string {
	var raw [42]byte
	for i := 0; i+8 <= 40; i += 8 {
		binary.LittleEndian.PutUint64(raw[i:], rand.Uint64())
	}
	binary.LittleEndian.PutUint16(raw[40:], uint16(rand.Uint32()))
	return base64.URLEncoding.EncodeToString(raw[:])
}

// viewerIP is the address the viewer connected from.
func viewerIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// notModified reports whether the viewer's validators match the response
// about to be sent: CloudFront answers such a request with 304 itself.
func notModified(req, resp http.Header) bool {
	if inm := req["If-None-Match"]; inm != nil {
		etag := resp.Get("ETag")
		if etag == "" {
			return false
		}
		for _, v := range inm {
			for tag := range strings.SplitSeq(v, ",") {
				tag = strings.TrimSpace(tag)
				if tag == "*" || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(etag, "W/") {
					return true
				}
			}
		}
		return false
	}
	if ims := req.Get("If-Modified-Since"); ims != "" {
		since, err1 := http.ParseTime(ims)
		modified, err2 := http.ParseTime(resp.Get("Last-Modified"))
		return err1 == nil && err2 == nil && !modified.After(since)
	}
	return false
}

// addViewerHeaders adds the CloudFront-* headers about the viewer that the
// policies name (an origin request policy's allViewerAndWhitelistCloudFront
// or a whitelist): CloudFront makes them, the viewer cannot send them.
func (x *exchange) addViewerHeaders(h http.Header, rules ...*nameRule) {
	for _, rule := range rules {
		if rule.mode != ruleWhitelist && rule.mode != ruleAll {
			continue
		}
		for _, name := range rule.list {
			switch name {
			case "Cloudfront-Viewer-Country":
				if x.country != "" {
					h[name] = []string{x.country}
				}
			case "Cloudfront-Forwarded-Proto":
				proto := "http"
				if x.r.TLS != nil {
					proto = "https"
				}
				h[name] = []string{proto}
			case "Cloudfront-Viewer-Address":
				if x.ip.IsValid() {
					_, port, _ := net.SplitHostPort(x.r.RemoteAddr)
					h[name] = []string{x.ip.String() + ":" + port}
				}
			case "Cloudfront-Viewer-Http-Version":
				h[name] = []string{strings.TrimPrefix(x.r.Proto, "HTTP/")}
			}
		}
	}
}
