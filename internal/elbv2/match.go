package elbv2

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	api "overcast/internal/api/elbv2"
	"overcast/internal/policy"
)

// requestMatcher is one compiled rule condition.
type requestMatcher func(r *http.Request, host string) bool

// compileConditions turns a rule's conditions into matchers: all must
// match, and within one, any value.
func compileConditions(conditions api.RuleConditionList) []requestMatcher {
	var out []requestMatcher
	for _, c := range conditions {
		switch deref(c.Field) {
		case "path-pattern":
			patterns := c.PathPatternConfig.Values
			out = append(out, func(r *http.Request, _ string) bool { return anyGlob(patterns, r.URL.Path, false) })
		case "host-header":
			patterns := c.HostHeaderConfig.Values
			out = append(out, func(_ *http.Request, host string) bool { return anyGlob(patterns, host, true) })
		case "http-header":
			name, patterns := http.CanonicalHeaderKey(*c.HttpHeaderConfig.HttpHeaderName), c.HttpHeaderConfig.Values
			out = append(out, func(r *http.Request, _ string) bool {
				for _, v := range r.Header[name] {
					if anyGlob(patterns, v, true) {
						return true
					}
				}
				return false
			})
		case "http-request-method":
			methods := c.HttpRequestMethodConfig.Values
			out = append(out, func(r *http.Request, _ string) bool {
				for _, m := range methods {
					if m == r.Method {
						return true
					}
				}
				return false
			})
		case "query-string":
			pairs := c.QueryStringConfig.Values
			out = append(out, func(r *http.Request, _ string) bool { return matchQuery(pairs, r.URL.Query()) })
		case "source-ip":
			var prefixes []netip.Prefix
			for _, v := range c.SourceIpConfig.Values {
				if p, err := netip.ParsePrefix(v); err == nil {
					prefixes = append(prefixes, p)
				}
			}
			out = append(out, func(r *http.Request, _ string) bool {
				host, _, _ := net.SplitHostPort(r.RemoteAddr)
				ip, err := netip.ParseAddr(host)
				if err != nil {
					return false
				}
				for _, p := range prefixes {
					if p.Contains(ip.Unmap()) {
						return true
					}
				}
				return false
			})
		}
	}
	return out
}

func matchQuery(pairs api.QueryStringKeyValuePairList, query url.Values) bool {
	for _, p := range pairs {
		for k, vs := range query {
			if p.Key != nil && !glob(*p.Key, k, true) {
				continue
			}
			for _, v := range vs {
				if glob(deref(p.Value), v, true) {
					return true
				}
			}
		}
	}
	return false
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

// glob matches s against an ELB pattern: * is any run of characters, ?
// exactly one; fold compares without case.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	return policy.Match(pattern, s)
}
