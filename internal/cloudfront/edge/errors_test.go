package edge

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/service/servicetest"
)

// statusOrigin answers each path with the status, Cache-Control and body
// its table gives.
func statusOrigin(t *testing.T, routes map[string]struct {
	status       int
	cacheControl string
}) *testOrigin {
	return newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		route, ok := routes[r.URL.Path]
		if !ok {
			route.status = 200
		}
		if route.cacheControl != "" {
			w.Header().Set("Cache-Control", route.cacheControl)
		}
		w.WriteHeader(route.status)
		w.Write([]byte("origin " + r.URL.Path))
	})
}

func TestErrorCaching(t *testing.T) {
	o := statusOrigin(t, map[string]struct {
		status       int
		cacheControl string
	}{
		"/404": {404, ""}, "/500": {500, ""}, "/503": {503, ""},
		"/403": {403, ""}, "/403-max-age": {403, "max-age=30"}, "/401": {401, ""},
		"/404-custom-ttl": {404, ""},
	})
	e, clk := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.CustomErrorResponses = &api.CustomErrorResponses{Items: []api.CustomErrorResponse{{ErrorCode: ptr(int32(503)), ErrorCachingMinTTL: ptr(int64(0))}}}
	}))
	tests := []struct {
		path       string
		after      time.Duration // when the second request is sent
		wantCached bool
	}{
		{"/404", 9 * time.Second, true},
		{"/404", 11 * time.Second, false}, // ErrorCachingMinTTL defaults to 10 s
		{"/500", 5 * time.Second, true},
		{"/503", time.Second, false}, // ErrorCachingMinTTL 0
		{"/403", time.Second, false}, // 403 only with max-age
		{"/403-max-age", 20 * time.Second, true},
		{"/401", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if err := e.Invalidate(t.Context(), "E1TEST", []string{"/*"}); err != nil {
				t.Fatal(err)
			}
			first := get(e, "GET", "http://example.com"+tt.path, nil)
			readBody(t, first)
			if got := xcache(first); got != "Error" {
				t.Errorf("got X-Cache %q, want Error", got)
			}
			before := o.hits.Load()
			clk.Advance(tt.after)
			second := get(e, "GET", "http://example.com"+tt.path, nil)
			readBody(t, second)
			if got := o.hits.Load() == before; got != tt.wantCached {
				t.Errorf("got cached=%v after %v, want %v", got, tt.after, tt.wantCached)
			}
		})
	}
}

func TestCustomErrorPages(t *testing.T) {
	o := statusOrigin(t, map[string]struct {
		status       int
		cacheControl string
	}{"/missing": {404, ""}, "/broken": {500, ""}})
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.CustomErrorResponses = &api.CustomErrorResponses{Items: []api.CustomErrorResponse{
			{ErrorCode: ptr(int32(404)), ResponsePagePath: ptr("/errors/404.html"), ResponseCode: ptr("200")},
			{ErrorCode: ptr(int32(500)), ResponsePagePath: ptr("/errors/500.html")},
		}}
	}))
	checkExchanges(t, e, []exchangeCase{
		{"GET", "/missing", 200, "origin /errors/404.html"},
		{"GET", "/broken", 500, "origin /errors/500.html"},
		{"GET", "/fine", 200, "origin /fine"},
	})
}

func TestDefaultRootObject(t *testing.T) {
	o := newTestOrigin(t, nil)
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.DefaultRootObject = ptr("index.html")
	}))
	checkExchanges(t, e, []exchangeCase{
		{"GET", "/", 200, "body of /index.html"},
		{"GET", "/docs/", 200, "body of /docs/"}, // never a subdirectory
		{"GET", "/index.html", 200, "body of /index.html"},
	})
}

func TestOriginUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := int32(ln.Addr().(*net.TCPAddr).Port)
	ln.Close() // nothing listens there now: connections are refused
	refused := api.Origin{Id: ptr("gone"), DomainName: ptr("127.0.0.1"), ConnectionAttempts: ptr(int32(2)),
		CustomOriginConfig: &api.CustomOriginConfig{HTTPPort: ptr(port), HTTPSPort: ptr(int32(443)), OriginProtocolPolicy: ptr("http-only")}}

	hang := make(chan struct{})
	slow := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) { <-hang })
	t.Cleanup(func() { close(hang) }) // before the origin's Close, which waits for its handlers
	slowOrigin := customOrigin("slow", slow)
	slowOrigin.CustomOriginConfig.OriginReadTimeout = ptr(int32(1))

	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{refused, slowOrigin}, func(c *api.DistributionConfig) {
		c.CacheBehaviors = &api.CacheBehaviors{Items: []api.CacheBehavior{{PathPattern: ptr("/slow"), TargetOriginId: ptr("slow"),
			ViewerProtocolPolicy: ptr("allow-all"), CachePolicyId: ptr("optimized")}}}
	}))
	tests := []struct {
		path       string
		wantStatus int
		wantText   string
	}{
		{"/x", 502, msgOriginConnect},
		{"/slow", 504, msgOriginTimeout},
	}
	for _, tt := range tests {
		resp := get(e, "GET", "http://example.com"+tt.path, nil)
		body := readBody(t, resp)
		if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantText) || xcache(resp) != "Error" {
			t.Errorf("%s: got %d %q %q, want %d with %q", tt.path, resp.StatusCode, xcache(resp), body, tt.wantStatus, tt.wantText)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html" {
			t.Errorf("%s: got Content-Type %q, want text/html", tt.path, ct)
		}
	}
}

func TestStaleWindows(t *testing.T) {
	var mode string // what the origin does now: "ok" or "fail"
	var body = "v1"
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if mode == "fail" {
			w.WriteHeader(503)
			return
		}
		w.Header().Set("Cache-Control", r.URL.Query().Get("cc"))
		w.Write([]byte(body))
	})
	d := distribution([]api.Origin{customOrigin("o1", o)}, nil)
	d.CachePolicies["optimized"].ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig.QueryStringBehavior = ptr("all")
	e, clk := newTestEdge(t, Config{}, d)

	// stale-if-error: an expired copy stands in for the origin's 503.
	sie := "http://example.com/sie?cc=max-age%3D10,stale-if-error%3D60"
	mode = "ok"
	readBody(t, get(e, "GET", sie, nil))
	clk.Advance(30 * time.Second)
	mode = "fail"
	resp := get(e, "GET", sie, nil)
	if got := readBody(t, resp); resp.StatusCode != 200 || got != "v1" {
		t.Errorf("stale-if-error: got %d %q, want 200 v1", resp.StatusCode, got)
	}
	clk.Advance(60 * time.Second)
	if resp := get(e, "GET", sie, nil); resp.StatusCode != 503 {
		t.Errorf("past stale-if-error: got %d, want 503", resp.StatusCode)
	}

	// stale-if-error=0: never stale on error.
	mode = "ok"
	none := "http://example.com/none?cc=max-age%3D10,stale-while-revalidate%3D5,stale-if-error%3D0"
	readBody(t, get(e, "GET", none, nil))
	clk.Advance(11 * time.Second) // within stale-while-revalidate: served stale, refreshed once
	mode, body = "ok", "v2"
	before := o.hits.Load()
	resp = get(e, "GET", none, nil)
	if got := readBody(t, resp); got != "v1" || xcache(resp) != "Hit" {
		t.Errorf("stale-while-revalidate: got %q %q, want the stale v1 as a Hit", got, xcache(resp))
	}
	servicetest.WaitFor(t, "the background refresh", func() bool {
		r := get(e, "GET", none, nil)
		return readBody(t, r) == "v2"
	})
	if got := o.hits.Load() - before; got != 1 {
		t.Errorf("got %d origin fetches for the refresh, want 1", got)
	}
}
