package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/cloudfront"
)

func TestServesHosts(t *testing.T) {
	o := newTestOrigin(t, nil)
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.Aliases = &api.Aliases{Quantity: ptr(int32(2)), Items: []string{"cdn.example.com", "*.assets.example.com"}}
	}))
	tests := []struct {
		host string
		want bool
	}{
		{"e1test.cloudfront.localhost", true},
		{"E1TEST.cloudfront.localhost:4566", true},
		{"E1Test.CloudFront.Localhost.", true},
		{"cdn.example.com", true},
		{"CDN.example.com:8080", true},
		{"img.assets.example.com", true},
		{"a.b.assets.example.com", false}, // a wildcard covers one label
		{"assets.example.com", false},
		{"other.cloudfront.localhost", false},
		{"example.com", false},
	}
	for _, tt := range tests {
		if got := e.Serves(tt.host); got != tt.want {
			t.Errorf("Serves(%q): got %v, want %v", tt.host, got, tt.want)
		}
	}
	if err := e.Remove(t.Context(), "E1TEST"); err != nil {
		t.Fatal(err)
	}
	if e.Serves("cdn.example.com") {
		t.Errorf("got the alias served after Remove, want not")
	}
	resp := get(e, "GET", "http://cdn.example.com/", nil)
	if resp.StatusCode != 403 || !strings.Contains(readBody(t, resp), msgBadRequest) {
		t.Errorf("got %d for a removed distribution, want 403 with CloudFront's body", resp.StatusCode)
	}
}

func TestBehaviorsSelectOrigins(t *testing.T) {
	named := func(name string) *testOrigin {
		return newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(name)) })
	}
	origins := []api.Origin{customOrigin("default", named("default")), customOrigin("images", named("images")),
		customOrigin("php", named("php")), customOrigin("single", named("single"))}
	behavior := func(pattern, target string) api.CacheBehavior {
		return api.CacheBehavior{PathPattern: ptr(pattern), TargetOriginId: ptr(target), ViewerProtocolPolicy: ptr("allow-all"), CachePolicyId: ptr("disabled")}
	}
	e, _ := newTestEdge(t, Config{}, distribution(origins, func(c *api.DistributionConfig) {
		c.DefaultCacheBehavior.CachePolicyId = ptr("disabled")
		c.CacheBehaviors = &api.CacheBehaviors{Quantity: ptr(int32(4)), Items: []api.CacheBehavior{
			behavior("/images/*.jpg", "images"),
			behavior("*.php", "php"), // leading slash optional
			behavior("/a?c", "single"),
			behavior("/images/*", "php"), // after the .jpg pattern: first match wins
		}}
	}))
	tests := []struct{ path, want string }{
		{"/images/cat.jpg", "images"},
		{"/images/deep/dir/cat.jpg", "images"},
		{"/images/cat.JPG", "php"},
		{"/Images/cat.jpg", "default"},
		{"/index.php", "php"},
		{"/abc", "single"},
		{"/abbc", "default"},
		{"/", "default"},
		{"/abc?x=1", "single"},
	}
	for _, tt := range tests {
		resp := get(e, "GET", "http://example.com"+tt.path, nil)
		if got := readBody(t, resp); got != tt.want {
			t.Errorf("%s: got origin %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestMethods(t *testing.T) {
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte(r.Method))
	})
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.CacheBehaviors = &api.CacheBehaviors{Quantity: ptr(int32(1)), Items: []api.CacheBehavior{{
			PathPattern: ptr("/api/*"), TargetOriginId: ptr("o1"), ViewerProtocolPolicy: ptr("allow-all"), CachePolicyId: ptr("optimized"),
			AllowedMethods: &api.AllowedMethods{Quantity: ptr(int32(7)), Items: []string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"},
				CachedMethods: &api.CachedMethods{Quantity: ptr(int32(2)), Items: []string{"GET", "HEAD"}}},
		}}}
	}))
	tests := []struct {
		method, path string
		wantStatus   int
		wantXCache   string
	}{
		{"POST", "/page", 403, "Error"},
		{"DELETE", "/page", 403, "Error"},
		{"OPTIONS", "/page", 403, "Error"},
		{"GET", "/page", 200, "Miss"},
		{"HEAD", "/page", 200, "Hit"},
		{"POST", "/api/x", 200, "Miss"},
		{"POST", "/api/x", 200, "Miss"}, // never cached
		{"DELETE", "/api/x", 200, "Miss"},
	}
	for _, tt := range tests {
		resp := get(e, tt.method, "http://example.com"+tt.path, nil)
		body := readBody(t, resp)
		if resp.StatusCode != tt.wantStatus || xcache(resp) != tt.wantXCache {
			t.Errorf("%s %s: got %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, xcache(resp), tt.wantStatus, tt.wantXCache)
		}
		if tt.wantStatus == 403 && !strings.Contains(body, msgMethodNotAllowed) {
			t.Errorf("%s %s: got body %q, want CloudFront's method-not-allowed page", tt.method, tt.path, body)
		}
		if tt.wantStatus == 200 && tt.method != "HEAD" && body != tt.method && tt.wantXCache == "Miss" {
			t.Errorf("%s %s: origin saw %q, want %q", tt.method, tt.path, body, tt.method)
		}
	}
}

func TestOriginRequest(t *testing.T) {
	o := newTestOrigin(t, nil)
	origin := customOrigin("o1", o)
	origin.OriginPath = ptr("/prefix")
	origin.CustomHeaders = &api.CustomHeaders{Quantity: ptr(int32(1)), Items: []api.OriginCustomHeader{{HeaderName: ptr("x-origin-secret"), HeaderValue: ptr("s3cret")}}}
	d := distribution([]api.Origin{origin}, func(c *api.DistributionConfig) {
		c.DefaultCacheBehavior.CachePolicyId = ptr("keyed")
		c.DefaultCacheBehavior.OriginRequestPolicyId = ptr("forward")
	})
	d.CachePolicies["keyed"] = &api.CachePolicyConfig{Name: ptr("keyed"), MinTTL: ptr(int64(0)),
		ParametersInCacheKeyAndForwardedToOrigin: &api.ParametersInCacheKeyAndForwardedToOrigin{
			EnableAcceptEncodingGzip: ptr(true),
			HeadersConfig:            &api.CachePolicyHeadersConfig{HeaderBehavior: ptr("whitelist"), Headers: &api.Headers{Quantity: ptr(int32(1)), Items: []string{"x-keyed"}}},
			CookiesConfig:            &api.CachePolicyCookiesConfig{CookieBehavior: ptr("whitelist"), Cookies: &api.CookieNames{Quantity: ptr(int32(1)), Items: []string{"session"}}},
			QueryStringsConfig:       &api.CachePolicyQueryStringsConfig{QueryStringBehavior: ptr("whitelist"), QueryStrings: &api.QueryStringNames{Quantity: ptr(int32(1)), Items: []string{"v"}}},
		}}
	d.OriginRequestPolicies["forward"] = &api.OriginRequestPolicyConfig{Name: ptr("forward"),
		HeadersConfig:      &api.OriginRequestPolicyHeadersConfig{HeaderBehavior: ptr("whitelist"), Headers: &api.Headers{Quantity: ptr(int32(1)), Items: []string{"X-Forwarded-Only"}}},
		CookiesConfig:      &api.OriginRequestPolicyCookiesConfig{CookieBehavior: ptr("none")},
		QueryStringsConfig: &api.OriginRequestPolicyQueryStringsConfig{QueryStringBehavior: ptr("whitelist"), QueryStrings: &api.QueryStringNames{Quantity: ptr(int32(1)), Items: []string{"lang"}}},
	}
	e, _ := newTestEdge(t, Config{}, d)
	resp := get(e, "GET", "http://example.com/a/b.txt?v=2&lang=en&drop=1", http.Header{
		"X-Keyed": {"k"}, "X-Forwarded-Only": {"f"}, "X-Not-Forwarded": {"n"}, "X-Real-Ip": {"1.2.3.4"},
		"Cookie": {"session=abc; other=1"}, "Accept-Encoding": {"gzip, deflate"}, "User-Agent": {"curl/8"},
	})
	readBody(t, resp)
	got := o.lastRequest()
	want := map[string]string{
		"path":             "/prefix/a/b.txt",
		"query":            "v=2&lang=en",
		"Host":             "origin.localhost",
		"User-Agent":       "Amazon CloudFront",
		"Via":              e.pops[0].via,
		"X-Forwarded-For":  "192.0.2.1",
		"X-Amz-Cf-Id":      resp.Header.Get("X-Amz-Cf-Id"),
		"X-Origin-Secret":  "s3cret",
		"X-Keyed":          "k",
		"X-Forwarded-Only": "f",
		"X-Not-Forwarded":  "",
		"X-Real-Ip":        "",
		"Cookie":           "session=abc",
		"Accept-Encoding":  "gzip",
	}
	gotMap := map[string]string{"path": got.URL.Path, "query": got.URL.RawQuery, "Host": got.Host}
	for k := range want {
		if k != "path" && k != "query" && k != "Host" {
			gotMap[k] = got.Header.Get(k)
		}
	}
	if diff := cmp.Diff(want, gotMap); diff != "" {
		t.Errorf("origin request (-want +got):\n%s", diff)
	}
	if id := resp.Header.Get("X-Amz-Cf-Id"); len(id) != 56 {
		t.Errorf("got X-Amz-Cf-Id %q, want 56 characters", id)
	}
	if via := resp.Header.Get("Via"); !strings.HasSuffix(via, ".cloudfront.net (CloudFront)") || !strings.HasPrefix(via, "1.1 ") {
		t.Errorf("got Via %q, want 1.1 <hex>.cloudfront.net (CloudFront)", via)
	}
	if pop := resp.Header.Get("X-Amz-Cf-Pop"); pop != "IAD89-C1" {
		t.Errorf("got X-Amz-Cf-Pop %q, want IAD89-C1", pop)
	}
}

func TestMissHitInvalidate(t *testing.T) {
	o := newTestOrigin(t, nil)
	e, clk := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, nil))
	type step struct {
		do         func()
		path       string
		wantXCache string
		wantAge    string
		wantHits   int64
	}
	invalidate := func(paths ...string) func() {
		return func() {
			if err := e.Invalidate(t.Context(), "E1TEST", paths); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []step{
		{nil, "/a.txt", "Miss", "", 1},
		{nil, "/a.txt", "Hit", "", 1},
		{func() { clk.Advance(5 * time.Second) }, "/a.txt", "Hit", "5", 1},
		{nil, "/a.txt?ignored=1", "Hit", "5", 1}, // query strings are not in the key
		{invalidate("/a.txt"), "/a.txt", "Miss", "", 2},
		{nil, "/dir/b.txt", "Miss", "", 3},
		{invalidate("/dir/*"), "/dir/b.txt", "Miss", "", 4},
		{nil, "/a.txt", "Hit", "", 4},
		{func() { clk.Advance(61 * time.Second) }, "/a.txt", "Miss", "", 5}, // max-age=60 is over
	}
	for i, s := range steps {
		if s.do != nil {
			s.do()
		}
		resp := get(e, "GET", "http://example.com"+s.path, nil)
		body := readBody(t, resp)
		if got := xcache(resp); got != s.wantXCache {
			t.Errorf("step %d %s: got X-Cache %q, want %q", i, s.path, got, s.wantXCache)
		}
		if got := resp.Header.Get("Age"); got != s.wantAge {
			t.Errorf("step %d %s: got Age %q, want %q", i, s.path, got, s.wantAge)
		}
		if got := o.hits.Load(); got != s.wantHits {
			t.Errorf("step %d %s: got %d origin hits, want %d", i, s.path, got, s.wantHits)
		}
		if want := "body of " + strings.Split(s.path, "?")[0]; body != want {
			t.Errorf("step %d: got body %q, want %q", i, body, want)
		}
	}
}

func TestDisabledDistribution(t *testing.T) {
	o := newTestOrigin(t, nil)
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.Enabled = ptr(false)
	}))
	resp := get(e, "GET", "http://example.com/a", nil)
	if body := readBody(t, resp); resp.StatusCode != 403 || !strings.Contains(body, msgBadRequest) || o.hits.Load() != 0 {
		t.Errorf("got %d %q with %d origin requests, want 403 and no origin request", resp.StatusCode, body, o.hits.Load())
	}
}

func TestConditionalRequests(t *testing.T) {
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 07 Dec 2026 05:00:00 GMT")
		w.Write([]byte("content"))
	})
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, nil))
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no validator", nil, 200},
		{"matching ETag", http.Header{"If-None-Match": {`"v1"`}}, 304},
		{"weak matching ETag", http.Header{"If-None-Match": {`W/"v1"`}}, 304},
		{"other ETag", http.Header{"If-None-Match": {`"v0", "v2"`}}, 200},
		{"not modified since", http.Header{"If-Modified-Since": {"Mon, 07 Dec 2026 06:00:00 GMT"}}, 304},
		{"modified since", http.Header{"If-Modified-Since": {"Mon, 07 Dec 2026 04:00:00 GMT"}}, 200},
	}
	for _, tt := range tests {
		if resp := get(e, "GET", "http://example.com/c", tt.header); resp.StatusCode != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
}
