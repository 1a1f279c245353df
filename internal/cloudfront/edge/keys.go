package edge

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/service"
)

// nameRule is one of a policy's header, cookie or query-string settings:
// none, whitelist, allExcept or all (allViewer and its CloudFront variant
// count as all).
type nameRule struct {
	mode  ruleMode
	names map[string]bool // canonical header names; cookie and query names as sent
	list  []string        // names, sorted, for the whitelist order in a cache key
}

type ruleMode uint8

const (
	ruleNone ruleMode = iota
	ruleWhitelist
	ruleAllExcept
	ruleAll
)

func newNameRule(behavior string, names []string, canonical bool) nameRule {
	r := nameRule{names: make(map[string]bool, len(names))}
	switch behavior {
	case "whitelist":
		r.mode = ruleWhitelist
	case "allExcept":
		r.mode = ruleAllExcept
	case "all", "allViewer", "allViewerAndWhitelistCloudFront":
		r.mode = ruleAll
	}
	for _, n := range names {
		if canonical {
			n = http.CanonicalHeaderKey(n)
		}
		if n == "*" {
			r.mode = ruleAll
			continue
		}
		r.names[n] = true
		r.list = append(r.list, n)
	}
	slices.Sort(r.list)
	return r
}

func (r *nameRule) has(name string) bool {
	switch r.mode {
	case ruleWhitelist:
		return r.names[name]
	case ruleAllExcept:
		return !r.names[name]
	case ruleAll:
		return true
	}
	return false
}

// keySpec is what a behaviour's cache key is made of beyond the path.
type keySpec struct {
	headers, cookies, query nameRule
	gzip, br                bool // Accept-Encoding normalisation
}

// forwardSpec is what reaches the origin beyond the cache key: the origin
// request policy, or nothing for a behaviour without one.
type forwardSpec = keySpec

func cachePolicyKey(p *api.CachePolicyConfig) keySpec {
	in := p.ParametersInCacheKeyAndForwardedToOrigin
	if in == nil {
		return keySpec{}
	}
	k := newKeySpec(in.HeadersConfig, in.CookiesConfig, in.QueryStringsConfig)
	k.gzip, k.br = deref(in.EnableAcceptEncodingGzip), deref(in.EnableAcceptEncodingBrotli)
	return k
}

func originRequestForward(p *api.OriginRequestPolicyConfig) forwardSpec {
	return newKeySpec((*api.CachePolicyHeadersConfig)(p.HeadersConfig), (*api.CachePolicyCookiesConfig)(p.CookiesConfig),
		(*api.CachePolicyQueryStringsConfig)(p.QueryStringsConfig))
}

// newKeySpec reads the headers, cookies and query strings settings that
// cache policies and origin request policies share.
func newKeySpec(h *api.CachePolicyHeadersConfig, c *api.CachePolicyCookiesConfig, q *api.CachePolicyQueryStringsConfig) keySpec {
	var k keySpec
	if h != nil {
		k.headers = newNameRule(deref(h.HeaderBehavior), headerItems(h.Headers), true)
	}
	if c != nil {
		k.cookies = newNameRule(deref(c.CookieBehavior), cookieItems(c.Cookies), false)
	}
	if q != nil {
		k.query = newNameRule(deref(q.QueryStringBehavior), queryItems(q.QueryStrings), false)
	}
	return k
}

// legacyKey is the key of a behaviour with ForwardedValues instead of a
// cache policy: what is forwarded is also what is keyed.
func legacyKey(fv *api.ForwardedValues, compress bool) keySpec {
	k := keySpec{gzip: compress, br: compress}
	if fv == nil {
		return k
	}
	k.headers = newNameRule("whitelist", headerItems(fv.Headers), true)
	if c := fv.Cookies; c != nil {
		var names []string
		if c.WhitelistedNames != nil {
			names = c.WhitelistedNames.Items
		}
		k.cookies = newNameRule(deref(c.Forward), names, false)
	}
	if deref(fv.QueryString) {
		k.query = nameRule{mode: ruleAll}
		if fv.QueryStringCacheKeys != nil && len(fv.QueryStringCacheKeys.Items) > 0 {
			k.query = newNameRule("whitelist", fv.QueryStringCacheKeys.Items, false)
		}
	}
	return k
}

func headerItems(h *api.Headers) []string {
	if h == nil {
		return nil
	}
	return h.Items
}

func cookieItems(c *api.CookieNames) []string {
	if c == nil {
		return nil
	}
	return c.Items
}

func queryItems(q *api.QueryStringNames) []string {
	if q == nil {
		return nil
	}
	return q.Items
}

// deref is service.Deref under the short name the package's many optional
// request members read best with.
func deref[T any](p *T) T { return service.Deref(p) }

// acceptEncoding is the viewer's Accept-Encoding as CloudFront normalises
// it for the cache key and the origin: "br,gzip", "br", "gzip" or "".
func (k *keySpec) acceptEncoding(h http.Header) string {
	if !k.gzip && !k.br {
		return ""
	}
	var br, gz bool
	for _, v := range h["Accept-Encoding"] {
		for tok := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(tok), ";")
			if refused(params) {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "br":
				br = k.br
			case "gzip":
				gz = k.gzip
			}
		}
	}
	switch {
	case br && gz:
		return "br,gzip"
	case br:
		return "br"
	case gz:
		return "gzip"
	}
	return ""
}

// appendKey writes the part of the cache key that comes from the viewer's
// request: the query strings, headers and cookies the spec names, and the
// normalised Accept-Encoding.
func (k *keySpec) appendKey(b []byte, r *http.Request, ae string) []byte {
	b = append(b, '?')
	b = appendQuery(b, r.URL.RawQuery, &k.query)
	switch k.headers.mode {
	case ruleWhitelist:
		for _, name := range k.headers.list {
			b = append(b, '\n')
			b = append(b, name...)
			b = append(b, ':')
			for _, v := range r.Header[name] {
				b = append(b, v...)
				b = append(b, ',')
			}
		}
	case ruleAll, ruleAllExcept:
		names := make([]string, 0, len(r.Header))
		for name := range r.Header {
			if k.headers.has(name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			b = append(b, '\n')
			b = append(b, name...)
			b = append(b, ':')
			b = append(b, strings.Join(r.Header[name], ",")...)
		}
	}
	if k.cookies.mode != ruleNone {
		b = append(b, "\ncookie:"...)
		b = appendCookies(b, r.Header["Cookie"], &k.cookies)
	}
	b = append(b, "\nae:"...)
	return append(b, ae...)
}

// appendQuery appends the parameters of raw the rule keeps, in the order
// the viewer sent them: CloudFront keys a different order as a different
// object.
func appendQuery(b []byte, raw string, rule *nameRule) []byte {
	switch rule.mode {
	case ruleNone:
		return b
	case ruleAll:
		return append(b, raw...)
	}
	first := true
	for param := range strings.SplitSeq(raw, "&") {
		name, _, _ := strings.Cut(param, "=")
		if param == "" || !rule.has(name) {
			continue
		}
		if !first {
			b = append(b, '&')
		}
		first = false
		b = append(b, param...)
	}
	return b
}

// appendCookies appends the cookies the rule keeps, sorted by name.
func appendCookies(b []byte, headers []string, rule *nameRule) []byte {
	var kept []string
	for _, h := range headers {
		for c := range strings.SplitSeq(h, ";") {
			c = strings.TrimSpace(c)
			name, _, _ := strings.Cut(c, "=")
			if c != "" && rule.has(name) {
				kept = append(kept, c)
			}
		}
	}
	slices.Sort(kept)
	for i, c := range kept {
		if i > 0 {
			b = append(b, "; "...)
		}
		b = append(b, c...)
	}
	return b
}

// refused reports whether an Accept-Encoding token's parameters say q=0.
func refused(params string) bool {
	_, q, ok := strings.Cut(strings.ReplaceAll(params, " ", ""), "q=")
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(q, 64)
	return err == nil && v == 0
}
