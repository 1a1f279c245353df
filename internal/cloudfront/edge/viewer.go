package edge

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/edge/cache"
	"overcast/internal/cloudfront/functions"
	"overcast/internal/cloudfront/signed"
)

// What stands between a viewer and the cache beyond routing: signed URLs
// and cookies, CloudFront Functions, response headers policies.

// msgFunctionFailed is the explanation of the 503 CloudFront answers with
// when a function throws or goes over its limits.
const msgFunctionFailed = "The CloudFront function associated with the CloudFront distribution is invalid or could not run."

// trustedKeys parses the public keys a behaviour trusts: those of its
// trusted key groups and of its trusted signers. It is nil when the
// behaviour trusts neither, and not nil (if empty) when it trusts a signer
// with no keys: then no signature passes, as on CloudFront.
func trustedKeys(d *Distribution, groups *api.TrustedKeyGroups, signers *api.TrustedSigners) (map[string]signed.Key, error) {
	var keys map[string]signed.Key
	add := func(owner string, pks []PublicKey) error {
		for _, k := range pks {
			key, err := signed.ParsePublicKey(k.ID, k.PEM)
			if err != nil {
				return fmt.Errorf("edge: key %s of %s: %w", k.ID, owner, err)
			}
			keys[k.ID] = key
		}
		return nil
	}
	if groups != nil && deref(groups.Enabled) {
		keys = map[string]signed.Key{}
		for _, id := range groups.Items {
			if err := add("key group "+id, d.KeyGroups[id]); err != nil {
				return nil, err
			}
		}
	}
	if signers != nil && deref(signers.Enabled) {
		if keys == nil {
			keys = map[string]signed.Key{}
		}
		for _, signer := range signers.Items {
			if err := add("trusted signer "+signer, d.Signers[signer]); err != nil {
				return nil, err
			}
		}
	}
	return keys, nil
}

// compileFunctions compiles the LIVE code of the functions a behaviour
// associates, by event type.
func compileFunctions(d *Distribution, fa *api.FunctionAssociations) (request, response *functions.Program, err error) {
	if fa == nil {
		return nil, nil, nil
	}
	for _, a := range fa.Items {
		f, ok := d.Functions[deref(a.FunctionARN)]
		if !ok {
			return nil, nil, fmt.Errorf("edge: behavior associates unknown function %q", deref(a.FunctionARN))
		}
		p, err := functions.Compile(f.Runtime, f.Code)
		if err != nil {
			return nil, nil, fmt.Errorf("edge: function %s: %w", f.Name, err)
		}
		switch deref(a.EventType) {
		case functions.EventViewerRequest:
			request = p
		case functions.EventViewerResponse:
			response = p
		}
	}
	return request, response, nil
}

// checkSigned answers a request the behaviour's trusted keys refuse, and
// reports whether it did.
func (x *exchange) checkSigned(b *behavior) bool {
	scheme := "http"
	if x.r.TLS != nil {
		scheme = "https"
	}
	err := x.e.verifier.Check(x.r, signed.ResourceURL(x.r, scheme, x.r.Host), net.IP(x.ip.AsSlice()), b.trustedKeys)
	if err == nil {
		return false
	}
	var denied *signed.Denied
	if !errors.As(err, &denied) {
		denied = &signed.Denied{Code: "AccessDenied", Message: "Access denied"}
	}
	ent := cache.NewEntry(cache.Entry{Header: http.Header{"Content-Type": {signed.ContentType}, "Server": {"CloudFront"}}}, denied.Body())
	x.write(ent, http.StatusForbidden, "Error")
	return true
}

func (x *exchange) event(eventType string) *functions.Event {
	return &functions.Event{
		Version: "1.0",
		Context: functions.Context{
			DistributionDomainName: x.dep.dist.DomainName, DistributionID: x.dep.dist.ID, EventType: eventType, RequestID: x.id,
		},
		Viewer: functions.Viewer{IP: x.ip.String()},
	}
}

// runViewerRequest runs the behaviour's viewer-request function: the
// request it returns goes on (with the same behaviour); a response it
// returns is the answer. It reports whether the viewer was answered.
func (x *exchange) runViewerRequest(p *functions.Program, path string) (string, bool) {
	ev := x.event(functions.EventViewerRequest)
	ev.Request = functions.NewRequest(x.r.Method, path, x.r.URL.RawQuery, x.r.Header)
	res, err := p.Run(x.r.Context(), ev)
	if err != nil {
		x.functionFailed(err)
		return "", true
	}
	if res.Response != nil {
		body, _ := bodyOf(res.Response)
		ent := cache.NewEntry(cache.Entry{Header: res.Response.Header()}, body)
		x.write(ent, res.Response.StatusCode, "FunctionGeneratedResponse")
		return "", true
	}
	if rq := res.Request; rq != nil {
		r := x.r.Clone(x.r.Context())
		r.URL.Path, r.URL.RawPath, r.URL.RawQuery = rq.URI, "", rq.RawQuery()
		r.Header = rq.Header()
		x.r = r
		return rq.URI, false
	}
	return path, false
}

func bodyOf(r *functions.Response) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return r.Body.Bytes()
}

// functionFailed answers a request whose function threw or went over a
// limit: 503, with the result type in X-Cache.
func (x *exchange) functionFailed(err error) {
	resultType := "FunctionExecutionError"
	if rt, ok := err.(interface{ ResultType() string }); ok {
		resultType = rt.ResultType()
	}
	x.write(generatedEntry(functions.ErrorStatus, msgFunctionFailed, x.id), functions.ErrorStatus, resultType)
}

// headerPolicy is a response headers policy compiled for writing.
type headerPolicy struct {
	set    []headerValue
	remove []string
	cors   *api.ResponseHeadersPolicyCorsConfig
}

type headerValue struct {
	name, value string
	override    bool
}

func compileHeaderPolicy(p *api.ResponseHeadersPolicyConfig) *headerPolicy {
	hp := &headerPolicy{cors: p.CorsConfig}
	add := func(name, value string, override *bool) {
		hp.set = append(hp.set, headerValue{http.CanonicalHeaderKey(name), value, deref(override)})
	}
	if s := p.SecurityHeadersConfig; s != nil {
		if h := s.StrictTransportSecurity; h != nil {
			v := "max-age=" + strconv.Itoa(int(deref(h.AccessControlMaxAgeSec)))
			if deref(h.IncludeSubdomains) {
				v += "; includeSubDomains"
			}
			if deref(h.Preload) {
				v += "; preload"
			}
			add("Strict-Transport-Security", v, h.Override)
		}
		if h := s.ContentTypeOptions; h != nil {
			add("X-Content-Type-Options", "nosniff", h.Override)
		}
		if h := s.FrameOptions; h != nil {
			add("X-Frame-Options", deref(h.FrameOption), h.Override)
		}
		if h := s.ReferrerPolicy; h != nil {
			add("Referrer-Policy", deref(h.ReferrerPolicy), h.Override)
		}
		if h := s.ContentSecurityPolicy; h != nil {
			add("Content-Security-Policy", deref(h.ContentSecurityPolicy), h.Override)
		}
		if h := s.XSSProtection; h != nil {
			v := "0"
			if deref(h.Protection) {
				v = "1"
				if deref(h.ModeBlock) {
					v += "; mode=block"
				} else if u := deref(h.ReportUri); u != "" {
					v += "; report=" + u
				}
			}
			add("X-XSS-Protection", v, h.Override)
		}
	}
	if c := p.CustomHeadersConfig; c != nil {
		for _, h := range c.Items {
			add(deref(h.Header), deref(h.Value), h.Override)
		}
	}
	if r := p.RemoveHeadersConfig; r != nil {
		for _, h := range r.Items {
			hp.remove = append(hp.remove, http.CanonicalHeaderKey(deref(h.Header)))
		}
	}
	return hp
}

// apply sets the policy's headers on h, the response to r.
func (hp *headerPolicy) apply(h http.Header, r *http.Request) {
	for _, name := range hp.remove {
		delete(h, name)
	}
	for _, v := range hp.set {
		if _, present := h[v.name]; !present || v.override {
			h[v.name] = []string{v.value}
		}
	}
	if hp.cors != nil {
		hp.applyCORS(h, r.Header.Get("Origin"))
	}
}

// applyCORS adds the CORS headers for a request from origin.
func (hp *headerPolicy) applyCORS(h http.Header, origin string) {
	c := hp.cors
	if origin == "" {
		return
	}
	if _, present := h["Access-Control-Allow-Origin"]; present && !deref(c.OriginOverride) {
		return
	}
	allowed := ""
	if o := c.AccessControlAllowOrigins; o != nil {
		for _, v := range o.Items {
			if v == "*" || strings.EqualFold(v, origin) {
				allowed = v
				break
			}
		}
	}
	if allowed == "" {
		return
	}
	h["Access-Control-Allow-Origin"] = []string{allowed}
	if deref(c.AccessControlAllowCredentials) {
		h["Access-Control-Allow-Credentials"] = []string{"true"}
	}
	if m := c.AccessControlAllowMethods; m != nil && len(m.Items) > 0 {
		h["Access-Control-Allow-Methods"] = []string{strings.Join(m.Items, ", ")}
	}
	if a := c.AccessControlAllowHeaders; a != nil && len(a.Items) > 0 {
		h["Access-Control-Allow-Headers"] = []string{strings.Join(a.Items, ", ")}
	}
	if e := c.AccessControlExposeHeaders; e != nil && len(e.Items) > 0 {
		h["Access-Control-Expose-Headers"] = []string{strings.Join(e.Items, ", ")}
	}
	if c.AccessControlMaxAgeSec != nil {
		h["Access-Control-Max-Age"] = []string{strconv.Itoa(int(*c.AccessControlMaxAgeSec))}
	}
}

// runViewerResponse runs the behaviour's viewer-response function on the
// response about to be written, and writes what it returns.
func (x *exchange) runViewerResponse(ent *cache.Entry, status int) {
	h := x.w.Header()
	ev := x.event(functions.EventViewerResponse)
	ev.Request = functions.NewRequest(x.r.Method, x.r.URL.Path, x.r.URL.RawQuery, x.r.Header)
	ev.Response = functions.NewResponse(status, h)
	res, err := x.b.viewerResponse.Run(x.r.Context(), ev)
	if err != nil {
		clear(h)
		x.b = nil // the error page goes out as CloudFront's own
		x.functionFailed(err)
		return
	}
	out := res.Response
	if out == nil {
		out = ev.Response
	}
	clear(h)
	for k, v := range out.Header() {
		h[k] = v
	}
	if out.Body != nil {
		body, _ := bodyOf(out)
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		x.w.WriteHeader(out.StatusCode)
		if x.r.Method != http.MethodHead {
			x.w.Write(body)
		}
		return
	}
	h["Content-Length"] = []string{strconv.FormatInt(ent.Size, 10)}
	x.w.WriteHeader(out.StatusCode)
	if x.r.Method != http.MethodHead {
		ent.WriteTo(x.w)
	}
}
