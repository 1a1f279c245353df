package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	api "overcast/internal/api/cloudfront"
	"overcast/internal/cloudfront/functions"
)

// headerCountry places a viewer by a test header, as the trusted-header
// mode of the server does.
func headerCountry(r *http.Request, _ netip.Addr) string { return r.Header.Get("X-Test-Country") }

func TestGeoRestrictionAndPOPs(t *testing.T) {
	o := newTestOrigin(t, nil)
	restrict := func(kind string, countries ...string) func(c *api.DistributionConfig) {
		return func(c *api.DistributionConfig) {
			c.Restrictions = &api.Restrictions{GeoRestriction: &api.GeoRestriction{RestrictionType: ptr(kind), Items: countries}}
		}
	}
	tests := []struct {
		name, restriction, country string
		countries                  []string
		wantStatus                 int
		wantPOP                    string
	}{
		{"whitelisted", "whitelist", "US", []string{"US", "DE"}, 200, "IAD89-C1"},
		{"not whitelisted", "whitelist", "JP", []string{"US", "DE"}, 403, "NRT57-P2"},
		{"blacklisted", "blacklist", "DE", []string{"DE"}, 403, "FRA56-P1"},
		{"not blacklisted", "blacklist", "BR", []string{"DE"}, 200, "GRU3-C1"},
		{"unknown country is served", "whitelist", "", []string{"US"}, 200, "IAD89-C1"},
		{"no restriction", "none", "AU", nil, 200, "SYD62-P1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newTestEdge(t, Config{CountryOf: headerCountry}, distribution([]api.Origin{customOrigin("o1", o)}, restrict(tt.restriction, tt.countries...)))
			resp := get(e, "GET", "http://example.com/x", http.Header{"X-Test-Country": {tt.country}})
			body := readBody(t, resp)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("X-Amz-Cf-Pop") != tt.wantPOP {
				t.Errorf("got %d from %s, want %d from %s", resp.StatusCode, resp.Header.Get("X-Amz-Cf-Pop"), tt.wantStatus, tt.wantPOP)
			}
			if tt.wantStatus == 403 && !strings.Contains(body, msgGeoBlocked) {
				t.Errorf("got body %q, want CloudFront's geo-blocked page", body)
			}
		})
	}
}

func TestPOPsCacheSeparately(t *testing.T) {
	o := newTestOrigin(t, nil)
	e, _ := newTestEdge(t, Config{CountryOf: headerCountry}, distribution([]api.Origin{customOrigin("o1", o)}, nil))
	var got []string
	for _, country := range []string{"US", "DE", "US", "DE", "FR"} {
		resp := get(e, "GET", "http://example.com/x", http.Header{"X-Test-Country": {country}})
		readBody(t, resp)
		got = append(got, xcache(resp))
	}
	if want := []string{"Miss", "Miss", "Hit", "Hit", "Hit"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
	if err := e.Invalidate(t.Context(), "E1TEST", []string{"/x"}); err != nil {
		t.Fatal(err)
	}
	for _, country := range []string{"US", "DE"} {
		if resp := get(e, "GET", "http://example.com/x", http.Header{"X-Test-Country": {country}}); xcache(resp) != "Miss" {
			t.Errorf("%s after invalidation: got %s, want Miss on every POP", country, xcache(resp))
		}
	}
}

func TestViewerProtocolPolicy(t *testing.T) {
	o := newTestOrigin(t, nil)
	behavior := func(pattern, policy string) api.CacheBehavior {
		return api.CacheBehavior{PathPattern: ptr(pattern), TargetOriginId: ptr("o1"), ViewerProtocolPolicy: ptr(policy), CachePolicyId: ptr("optimized")}
	}
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.CacheBehaviors = &api.CacheBehaviors{Items: []api.CacheBehavior{behavior("/redirect/*", "redirect-to-https"), behavior("/https/*", "https-only")}}
	}))
	tests := []struct {
		target       string
		tls          bool
		wantStatus   int
		wantLocation string
	}{
		{"/redirect/a?x=1", false, 301, "https://E1TEST.cloudfront.localhost/redirect/a?x=1"}, // no HTTPS listener: 443
		{"/redirect/a", true, 200, ""},
		{"/https/a", false, 403, ""},
		{"/https/a", true, 200, ""},
		{"/other", false, 200, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://E1TEST.cloudfront.localhost:4566"+tt.target, nil)
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != tt.wantStatus || w.Header().Get("Location") != tt.wantLocation {
			t.Errorf("%s tls=%v: got %d %q, want %d %q", tt.target, tt.tls, w.Code, w.Header().Get("Location"), tt.wantStatus, tt.wantLocation)
		}
	}
}

func TestSignedURLs(t *testing.T) {
	o := newTestOrigin(t, nil)
	private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&private.PublicKey)
	d := distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.DefaultCacheBehavior.TrustedKeyGroups = &api.TrustedKeyGroups{Enabled: ptr(true), Items: []string{"kg"}}
	})
	d.KeyGroups = map[string][]PublicKey{"kg": {{ID: "K1", PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}}}
	e, clk := newTestEdge(t, Config{}, d)

	const file = "http://E1TEST.cloudfront.localhost:4566/private/a.txt"
	good, err := sign.NewURLSigner("K1", private).Sign(file, clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := sign.NewURLSigner("K1", private).Sign(file, clk.Now().Add(-time.Hour))
	unknownKey, _ := sign.NewURLSigner("K9", private).Sign(file, clk.Now().Add(time.Hour))
	tests := []struct {
		name, url  string
		wantStatus int
	}{
		{"signed", good, 200},
		{"unsigned", file, 403},
		{"expired", expired, 403},
		{"unknown key", unknownKey, 403},
	}
	for _, tt := range tests {
		resp := get(e, "GET", tt.url, nil)
		body := readBody(t, resp)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("%s: got %d %q, want %d", tt.name, resp.StatusCode, body, tt.wantStatus)
		}
		if tt.wantStatus == 403 && !strings.HasPrefix(body, "<?xml") {
			t.Errorf("%s: got body %q, want CloudFront's XML error", tt.name, body)
		}
	}
}

// TestTrustedSignerWithoutKeys: a behaviour trusting a signer that has no
// key pairs serves nothing, signed or not, as on CloudFront; it is not
// left open.
func TestTrustedSignerWithoutKeys(t *testing.T) {
	o := newTestOrigin(t, nil)
	private, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.DefaultCacheBehavior.TrustedSigners = &api.TrustedSigners{Enabled: ptr(true), Items: []string{"111122223333"}}
	})
	d.Signers = map[string][]PublicKey{"111122223333": nil}
	e, clk := newTestEdge(t, Config{}, d)
	const file = "http://E1TEST.cloudfront.localhost:4566/private/a.txt"
	signed, err := sign.NewURLSigner("K1", private).Sign(file, clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{file, signed} {
		if resp := get(e, "GET", u, nil); resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s: got %d, want 403", u, resp.StatusCode)
		}
	}
}

func TestFunctions(t *testing.T) {
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, r.URL.Path+" "+r.Header.Get("X-Added"))
	})
	code := map[string]string{
		"rewrite": `function handler(event) {
			var request = event.request;
			if (request.uri.endsWith('/')) { request.uri += 'index.html'; }
			request.headers['x-added'] = {value: 'by-function'};
			return request;
		}`,
		"generate": `function handler(event) {
			return {statusCode: 302, statusDescription: 'Found', headers: {location: {value: 'https://example.com/'}}};
		}`,
		"respond": `function handler(event) {
			var response = event.response;
			response.headers['x-from-function'] = {value: 'yes'};
			return response;
		}`,
		"loop": `function handler(event) { while (true) {} }`,
	}
	d := distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		behavior := func(pattern string, events ...string) api.CacheBehavior {
			b := api.CacheBehavior{PathPattern: ptr(pattern), TargetOriginId: ptr("o1"), ViewerProtocolPolicy: ptr("allow-all"), CachePolicyId: ptr("optimized"),
				OriginRequestPolicyId: ptr("all-headers"), FunctionAssociations: &api.FunctionAssociations{}}
			for i := 0; i < len(events); i += 2 {
				b.FunctionAssociations.Items = append(b.FunctionAssociations.Items, api.FunctionAssociation{EventType: ptr(events[i]), FunctionARN: ptr("arn:" + events[i+1])})
			}
			return b
		}
		c.CacheBehaviors = &api.CacheBehaviors{Items: []api.CacheBehavior{
			behavior("/docs/*", functions.EventViewerRequest, "rewrite", functions.EventViewerResponse, "respond"),
			behavior("/go/*", functions.EventViewerRequest, "generate"),
			behavior("/loop/*", functions.EventViewerRequest, "loop"),
		}}
	})
	d.OriginRequestPolicies["all-headers"] = &api.OriginRequestPolicyConfig{
		HeadersConfig: &api.OriginRequestPolicyHeadersConfig{HeaderBehavior: ptr("allViewer")}}
	d.Functions = map[string]Function{}
	for name, c := range code {
		d.Functions["arn:"+name] = Function{Name: name, ARN: "arn:" + name, Runtime: "cloudfront-js-1.0", Code: []byte(c)}
	}
	e, _ := newTestEdge(t, Config{}, d)
	tests := []struct {
		path                             string
		wantStatus                       int
		wantBody, wantHeader, wantXCache string
	}{
		{"/docs/", 200, "/docs/index.html by-function", "yes", "Miss"},
		{"/docs/", 200, "/docs/index.html by-function", "yes", "Hit"},
		{"/go/x", 302, "", "", "FunctionGeneratedResponse"},
		{"/loop/x", 503, "", "", "FunctionThrottledError"},
	}
	for _, tt := range tests {
		resp := get(e, "GET", "http://example.com"+tt.path, nil)
		body := readBody(t, resp)
		if tt.wantStatus == 503 {
			body = ""
		}
		if resp.StatusCode != tt.wantStatus || body != tt.wantBody || resp.Header.Get("X-From-Function") != tt.wantHeader || xcache(resp) != tt.wantXCache {
			t.Errorf("%s: got %d %q %q %q, want %d %q %q %q", tt.path, resp.StatusCode, body, resp.Header.Get("X-From-Function"), xcache(resp),
				tt.wantStatus, tt.wantBody, tt.wantHeader, tt.wantXCache)
		}
	}
}

func TestResponseHeadersPolicy(t *testing.T) {
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "origin")
		w.Header().Set("X-Frame-Options", "SAMEORIGIN")
		io.WriteString(w, "ok")
	})
	d := distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.DefaultCacheBehavior.ResponseHeadersPolicyId = ptr("rhp")
	})
	d.ResponseHeadersPolicies = map[string]*api.ResponseHeadersPolicyConfig{"rhp": {
		SecurityHeadersConfig: &api.ResponseHeadersPolicySecurityHeadersConfig{
			StrictTransportSecurity: &api.ResponseHeadersPolicyStrictTransportSecurity{Override: ptr(true), AccessControlMaxAgeSec: ptr(int32(63072000)), IncludeSubdomains: ptr(true)},
			FrameOptions:            &api.ResponseHeadersPolicyFrameOptions{Override: ptr(false), FrameOption: ptr("DENY")},
			ContentTypeOptions:      &api.ResponseHeadersPolicyContentTypeOptions{Override: ptr(true)},
		},
		CustomHeadersConfig: &api.ResponseHeadersPolicyCustomHeadersConfig{Items: []api.ResponseHeadersPolicyCustomHeader{{Header: ptr("x-custom"), Value: ptr("v"), Override: ptr(true)}}},
		RemoveHeadersConfig: &api.ResponseHeadersPolicyRemoveHeadersConfig{Items: []api.ResponseHeadersPolicyRemoveHeader{{Header: ptr("x-powered-by")}}},
		CorsConfig: &api.ResponseHeadersPolicyCorsConfig{
			AccessControlAllowOrigins:     &api.ResponseHeadersPolicyAccessControlAllowOrigins{Items: []string{"https://app.example.com"}},
			AccessControlAllowMethods:     &api.ResponseHeadersPolicyAccessControlAllowMethods{Items: []string{"GET", "HEAD"}},
			AccessControlAllowHeaders:     &api.ResponseHeadersPolicyAccessControlAllowHeaders{Items: []string{"*"}},
			AccessControlAllowCredentials: ptr(false), OriginOverride: ptr(true),
		},
	}}
	e, _ := newTestEdge(t, Config{}, d)
	resp := get(e, "GET", "http://example.com/x", http.Header{"Origin": {"https://app.example.com"}})
	readBody(t, resp)
	want := map[string]string{
		"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
		"X-Frame-Options":              "SAMEORIGIN", // no override: the origin's stays
		"X-Content-Type-Options":       "nosniff",
		"X-Custom":                     "v",
		"X-Powered-By":                 "",
		"Access-Control-Allow-Origin":  "https://app.example.com",
		"Access-Control-Allow-Methods": "GET, HEAD",
	}
	for name, v := range want {
		if got := resp.Header.Get(name); got != v {
			t.Errorf("%s: got %q, want %q", name, got, v)
		}
	}
}

func TestCloudFrontViewerHeaders(t *testing.T) {
	o := newTestOrigin(t, nil)
	d := distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) {
		c.DefaultCacheBehavior.OriginRequestPolicyId = ptr("viewer")
	})
	d.OriginRequestPolicies["viewer"] = &api.OriginRequestPolicyConfig{
		HeadersConfig: &api.OriginRequestPolicyHeadersConfig{HeaderBehavior: ptr("allViewerAndWhitelistCloudFront"),
			Headers: &api.Headers{Items: []string{"CloudFront-Viewer-Country", "CloudFront-Forwarded-Proto"}}}}
	e, _ := newTestEdge(t, Config{CountryOf: headerCountry}, d)
	readBody(t, get(e, "GET", "http://example.com/v", http.Header{"X-Test-Country": {"DE"}, "Cloudfront-Is-Mobile-Viewer": {"forged"}}))
	got := o.lastRequest().Header
	want := map[string]string{"Cloudfront-Viewer-Country": "DE", "Cloudfront-Forwarded-Proto": "http", "Cloudfront-Is-Mobile-Viewer": ""}
	for name, v := range want {
		if got.Get(name) != v {
			t.Errorf("%s: got %q, want %q", name, got.Get(name), v)
		}
	}
}
