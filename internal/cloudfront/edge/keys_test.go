package edge

import (
	"net/http"
	"net/http/httptest"
	"testing"

	api "overcast/internal/api/cloudfront"
)

func TestCacheKey(t *testing.T) {
	names := func(items ...string) []string { return items }
	policy := func(headers, hNames, cookies, cNames, query, qNames []string, gzip, br bool) *api.CachePolicyConfig {
		return &api.CachePolicyConfig{ParametersInCacheKeyAndForwardedToOrigin: &api.ParametersInCacheKeyAndForwardedToOrigin{
			EnableAcceptEncodingGzip: ptr(gzip), EnableAcceptEncodingBrotli: ptr(br),
			HeadersConfig:      &api.CachePolicyHeadersConfig{HeaderBehavior: ptr(headers[0]), Headers: &api.Headers{Items: hNames}},
			CookiesConfig:      &api.CachePolicyCookiesConfig{CookieBehavior: ptr(cookies[0]), Cookies: &api.CookieNames{Items: cNames}},
			QueryStringsConfig: &api.CachePolicyQueryStringsConfig{QueryStringBehavior: ptr(query[0]), QueryStrings: &api.QueryStringNames{Items: qNames}},
		}}
	}
	none := names("none")
	type req struct {
		target string
		header http.Header
	}
	tests := []struct {
		name     string
		spec     keySpec
		a, b     req
		wantSame bool
	}{
		{"query ignored with none", cachePolicyKey(policy(none, nil, none, nil, none, nil, false, false)),
			req{"/p?a=1", nil}, req{"/p?a=2", nil}, true},
		{"query all keys every parameter", cachePolicyKey(policy(none, nil, none, nil, names("all"), nil, false, false)),
			req{"/p?a=1", nil}, req{"/p?a=2", nil}, false},
		{"query whitelist keys the named one", cachePolicyKey(policy(none, nil, none, nil, names("whitelist"), names("a"), false, false)),
			req{"/p?a=1&b=1", nil}, req{"/p?a=1&b=2", nil}, true},
		{"query whitelist differs on the named one", cachePolicyKey(policy(none, nil, none, nil, names("whitelist"), names("a"), false, false)),
			req{"/p?a=1&b=1", nil}, req{"/p?a=2&b=1", nil}, false},
		{"query allExcept ignores the named one", cachePolicyKey(policy(none, nil, none, nil, names("allExcept"), names("utm"), false, false)),
			req{"/p?a=1&utm=x", nil}, req{"/p?a=1&utm=y", nil}, true},
		{"query allExcept keys the others", cachePolicyKey(policy(none, nil, none, nil, names("allExcept"), names("utm"), false, false)),
			req{"/p?a=1&utm=x", nil}, req{"/p?a=2&utm=x", nil}, false},
		{"header whitelist, any case", cachePolicyKey(policy(names("whitelist"), names("x-device"), none, nil, none, nil, false, false)),
			req{"/p", http.Header{"X-Device": {"m"}}}, req{"/p", http.Header{"X-Device": {"d"}}}, false},
		{"header not listed", cachePolicyKey(policy(names("whitelist"), names("x-device"), none, nil, none, nil, false, false)),
			req{"/p", http.Header{"X-Other": {"m"}}}, req{"/p", http.Header{"X-Other": {"d"}}}, true},
		{"cookie whitelist", cachePolicyKey(policy(none, nil, names("whitelist"), names("session"), none, nil, false, false)),
			req{"/p", http.Header{"Cookie": {"session=1; t=1"}}}, req{"/p", http.Header{"Cookie": {"t=2; session=1"}}}, true},
		{"cookie names are case-sensitive", cachePolicyKey(policy(none, nil, names("whitelist"), names("session"), none, nil, false, false)),
			req{"/p", http.Header{"Cookie": {"Session=1"}}}, req{"/p", http.Header{"Cookie": {"Session=2"}}}, true},
		{"cookie all", cachePolicyKey(policy(none, nil, names("all"), nil, none, nil, false, false)),
			req{"/p", http.Header{"Cookie": {"t=1"}}}, req{"/p", http.Header{"Cookie": {"t=2"}}}, false},
		{"cookie allExcept", cachePolicyKey(policy(none, nil, names("allExcept"), names("t"), none, nil, false, false)),
			req{"/p", http.Header{"Cookie": {"t=1; u=1"}}}, req{"/p", http.Header{"Cookie": {"t=2; u=1"}}}, true},
		{"accept-encoding normalised", cachePolicyKey(policy(none, nil, none, nil, none, nil, true, true)),
			req{"/p", http.Header{"Accept-Encoding": {"gzip, deflate, br"}}}, req{"/p", http.Header{"Accept-Encoding": {"br;q=0.9, gzip"}}}, true},
		{"gzip versus br", cachePolicyKey(policy(none, nil, none, nil, none, nil, true, true)),
			req{"/p", http.Header{"Accept-Encoding": {"gzip"}}}, req{"/p", http.Header{"Accept-Encoding": {"br, gzip"}}}, false},
		{"accept-encoding ignored without the flags", cachePolicyKey(policy(none, nil, none, nil, none, nil, false, false)),
			req{"/p", http.Header{"Accept-Encoding": {"gzip"}}}, req{"/p", nil}, true},
		{"legacy: query string forwarded is keyed", legacyKey(&api.ForwardedValues{QueryString: ptr(true), Cookies: &api.CookiePreference{Forward: ptr("none")}}, false),
			req{"/p?a=1", nil}, req{"/p?a=2", nil}, false},
		{"legacy: QueryStringCacheKeys narrows the key", legacyKey(&api.ForwardedValues{QueryString: ptr(true), Cookies: &api.CookiePreference{Forward: ptr("none")},
			QueryStringCacheKeys: &api.QueryStringCacheKeys{Items: names("a")}}, false),
			req{"/p?a=1&b=1", nil}, req{"/p?a=1&b=2", nil}, true},
		{"legacy: whitelisted cookie", legacyKey(&api.ForwardedValues{QueryString: ptr(false), Cookies: &api.CookiePreference{Forward: ptr("whitelist"),
			WhitelistedNames: &api.CookieNames{Items: names("s")}}}, false),
			req{"/p", http.Header{"Cookie": {"s=1"}}}, req{"/p", http.Header{"Cookie": {"s=2"}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := func(rq req) string {
				r := httptest.NewRequest("GET", rq.target, nil)
				for k, v := range rq.header {
					r.Header[k] = v
				}
				return string(tt.spec.appendKey(nil, r, tt.spec.acceptEncoding(r.Header)))
			}
			ka, kb := key(tt.a), key(tt.b)
			if got := ka == kb; got != tt.wantSame {
				t.Errorf("got same=%v (%q, %q), want %v", got, ka, kb, tt.wantSame)
			}
		})
	}
}

func TestAcceptEncoding(t *testing.T) {
	both := keySpec{gzip: true, br: true}
	tests := []struct {
		spec   keySpec
		header string
		want   string
	}{
		{both, "gzip, deflate, br", "br,gzip"},
		{both, "br", "br"},
		{both, "gzip", "gzip"},
		{both, "deflate", ""},
		{both, "gzip;q=0, br", "br"},
		{both, "GZIP", "gzip"},
		{keySpec{gzip: true}, "br, gzip", "gzip"},
		{keySpec{}, "br, gzip", ""},
	}
	for _, tt := range tests {
		if got := tt.spec.acceptEncoding(http.Header{"Accept-Encoding": {tt.header}}); got != tt.want {
			t.Errorf("%+v %q: got %q, want %q", tt.spec, tt.header, got, tt.want)
		}
	}
}
