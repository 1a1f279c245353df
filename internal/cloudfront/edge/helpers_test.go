package edge

import (
	"cmp"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	api "overcast/internal/api/cloudfront"
)

func ptr[T any](v T) *T { return &v }

// testOrigin is an HTTP origin that records what reaches it.
type testOrigin struct {
	*httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	last *http.Request
	// handle answers; nil: 200 "body of <path>" with max-age=60.
	handle func(w http.ResponseWriter, r *http.Request)
}

func newTestOrigin(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *testOrigin {
	o := &testOrigin{handle: handle}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.last = r.Clone(context.Background())
		o.mu.Unlock()
		if o.handle != nil {
			o.handle(w, r)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "body of "+r.URL.Path)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *testOrigin) lastRequest() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// host is the origin's host:port, as a DomainName and HTTPPort give it.
func (o *testOrigin) domainAndPort() (string, int32) {
	u, _ := url.Parse(o.URL)
	port := u.Port()
	var p int32
	for _, c := range port {
		p = p*10 + c - '0'
	}
	return "origin.localhost", p
}

// customOrigin is an api.Origin for o.
func customOrigin(id string, o *testOrigin) api.Origin {
	domain, port := o.domainAndPort()
	return api.Origin{
		Id: ptr(id), DomainName: ptr(domain),
		CustomOriginConfig: &api.CustomOriginConfig{HTTPPort: ptr(port), HTTPSPort: ptr(int32(443)), OriginProtocolPolicy: ptr("http-only")},
	}
}

// testClock is a settable Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// distribution is a distribution E1TEST whose default behaviour targets
// the first origin with CachingOptimized-like TTLs; change adjusts it.
func distribution(origins []api.Origin, change func(c *api.DistributionConfig)) *Distribution {
	c := &api.DistributionConfig{
		CallerReference: ptr("ref"), Comment: ptr(""), Enabled: ptr(true),
		Origins: &api.Origins{Quantity: ptr(int32(len(origins))), Items: origins},
		DefaultCacheBehavior: &api.DefaultCacheBehavior{
			TargetOriginId: origins[0].Id, ViewerProtocolPolicy: ptr("allow-all"), CachePolicyId: ptr("optimized"),
		},
	}
	if change != nil {
		change(c)
	}
	return &Distribution{
		ID: "E1TEST", ARN: "arn:aws:cloudfront::000000000000:distribution/E1TEST", Account: "000000000000",
		DomainName: "e1test.cloudfront.localhost", Config: c,
		CachePolicies: map[string]*api.CachePolicyConfig{
			"optimized": {Name: ptr("optimized"), MinTTL: ptr(int64(1)), DefaultTTL: ptr(int64(86400)), MaxTTL: ptr(int64(31536000)),
				ParametersInCacheKeyAndForwardedToOrigin: &api.ParametersInCacheKeyAndForwardedToOrigin{
					EnableAcceptEncodingGzip: ptr(true), EnableAcceptEncodingBrotli: ptr(true),
					HeadersConfig:      &api.CachePolicyHeadersConfig{HeaderBehavior: ptr("none")},
					CookiesConfig:      &api.CachePolicyCookiesConfig{CookieBehavior: ptr("none")},
					QueryStringsConfig: &api.CachePolicyQueryStringsConfig{QueryStringBehavior: ptr("none")},
				}},
			"disabled": {Name: ptr("disabled"), MinTTL: ptr(int64(0)), DefaultTTL: ptr(int64(0)), MaxTTL: ptr(int64(0))},
		},
		OriginRequestPolicies: map[string]*api.OriginRequestPolicyConfig{},
	}
}

// newTestEdge is an Edge with d deployed, on a clock tests move.
func newTestEdge(t *testing.T, cfg Config, d *Distribution) (*Edge, *testClock) {
	t.Helper()
	clk := &testClock{now: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)}
	cfg.Now = clk.Now
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if d != nil {
		if err := e.Deploy(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	return e, clk
}

// get sends a viewer request for target to the edge's distribution.
func get(e *Edge, method, target string, header http.Header) *http.Response {
	r := httptest.NewRequest(method, target, nil)
	if r.Host == "example.com" {
		r.Host = "E1TEST.cloudfront.localhost:4566"
	}
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w.Result()
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func xcache(resp *http.Response) string {
	return strings.TrimSuffix(resp.Header.Get("X-Cache"), " from cloudfront")
}

// exchangeCase is a viewer request and the status and body it should get.
type exchangeCase struct {
	method, path string
	wantStatus   int
	wantBody     string
}

// checkExchanges sends each case's request to e and checks the answer.
func checkExchanges(t *testing.T, e *Edge, cases []exchangeCase) {
	t.Helper()
	for _, tt := range cases {
		resp := get(e, cmp.Or(tt.method, "GET"), "http://example.com"+tt.path, nil)
		if got := readBody(t, resp); resp.StatusCode != tt.wantStatus || got != tt.wantBody {
			t.Errorf("%s %s: got %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, got, tt.wantStatus, tt.wantBody)
		}
	}
}
