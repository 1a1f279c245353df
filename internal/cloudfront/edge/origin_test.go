package edge

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	api "overcast/internal/api/cloudfront"
)

func TestOriginGroupFailover(t *testing.T) {
	primary := statusOrigin(t, map[string]struct {
		status       int
		cacheControl string
	}{"/500": {500, ""}, "/404": {404, ""}, "/403": {403, ""}})
	secondary := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secondary "+r.Method) })
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("primary", primary), customOrigin("secondary", secondary)},
		func(c *api.DistributionConfig) {
			c.OriginGroups = &api.OriginGroups{Items: []api.OriginGroup{{
				Id:               ptr("group"),
				FailoverCriteria: &api.OriginGroupFailoverCriteria{StatusCodes: &api.StatusCodes{Items: []int32{500, 404}}},
				Members:          &api.OriginGroupMembers{Items: []api.OriginGroupMember{{OriginId: ptr("primary")}, {OriginId: ptr("secondary")}}},
			}}}
			c.DefaultCacheBehavior.TargetOriginId = ptr("group")
			c.DefaultCacheBehavior.CachePolicyId = ptr("disabled")
			c.DefaultCacheBehavior.AllowedMethods = &api.AllowedMethods{Items: []string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}}
		}))
	checkExchanges(t, e, []exchangeCase{
		{"GET", "/500", 200, "secondary GET"},
		{"GET", "/404", 200, "secondary GET"},
		{"GET", "/403", 403, "origin /403"}, // not a failover code
		{"GET", "/fine", 200, "origin /fine"},
		{"OPTIONS", "/500", 200, "secondary OPTIONS"},
		{"POST", "/500", 500, "origin /500"}, // only GET, HEAD and OPTIONS fail over
	})
}

// fakeBuckets is S3 as the edge sees it: a private bucket that answers
// only its distribution, and a public one.
type fakeBuckets struct {
	got []Requester
}

func (b *fakeBuckets) Serve(ctx context.Context, bucket string, r *http.Request, as Requester) (*http.Response, error) {
	b.got = append(b.got, as)
	w := httptest.NewRecorder()
	switch {
	case bucket == "private" && as.DistributionARN != "arn:aws:cloudfront::000000000000:distribution/E1TEST":
		w.WriteHeader(403)
		io.WriteString(w, "AccessDenied")
	case bucket == "legacy" && as.OAI != "E2OAI":
		w.WriteHeader(403)
		io.WriteString(w, "AccessDenied")
	default:
		io.WriteString(w, bucket+":"+r.URL.Path)
	}
	return w.Result(), nil
}

func TestS3Origins(t *testing.T) {
	s3 := &fakeBuckets{}
	origins := []api.Origin{
		{Id: ptr("private"), DomainName: ptr("private.s3.us-east-1.amazonaws.com"), OriginAccessControlId: ptr("oac"),
			S3OriginConfig: &api.S3OriginConfig{OriginAccessIdentity: ptr("")}},
		{Id: ptr("unsigned"), DomainName: ptr("private.s3.amazonaws.com"), S3OriginConfig: &api.S3OriginConfig{OriginAccessIdentity: ptr("")}},
		{Id: ptr("legacy"), DomainName: ptr("legacy.s3.localhost"), OriginPath: ptr("/site"),
			S3OriginConfig: &api.S3OriginConfig{OriginAccessIdentity: ptr("origin-access-identity/cloudfront/E2OAI")}},
	}
	behavior := func(pattern, target string) api.CacheBehavior {
		return api.CacheBehavior{PathPattern: ptr(pattern), TargetOriginId: ptr(target), ViewerProtocolPolicy: ptr("allow-all"), CachePolicyId: ptr("disabled")}
	}
	d := distribution(origins, func(c *api.DistributionConfig) {
		c.CacheBehaviors = &api.CacheBehaviors{Items: []api.CacheBehavior{behavior("/unsigned/*", "unsigned"), behavior("/legacy/*", "legacy")}}
	})
	d.OriginAccessControls = map[string]*api.OriginAccessControlConfig{"oac": {SigningBehavior: ptr("always")}}
	e, _ := newTestEdge(t, Config{Buckets: s3}, d)
	checkExchanges(t, e, []exchangeCase{
		{"GET", "/a.txt", 200, "private:/a.txt"},
		{"GET", "/unsigned/a.txt", 403, "AccessDenied"},
		{"GET", "/legacy/a.txt", 200, "legacy:/site/legacy/a.txt"},
	})
	want := []Requester{{DistributionARN: d.ARN}, {}, {OAI: "E2OAI"}}
	if diff := cmp.Diff(want, s3.got); diff != "" {
		t.Errorf("requesters (-want +got):\n%s", diff)
	}
}

func TestS3Bucket(t *testing.T) {
	tests := []struct {
		domain, want string
		ok           bool
	}{
		{"media.s3.amazonaws.com", "media", true},
		{"media.s3.eu-west-1.amazonaws.com", "media", true},
		{"media.s3-eu-west-1.amazonaws.com", "media", true},
		{"media.s3.localhost", "media", true},
		{"media.s3-website-us-east-1.amazonaws.com", "", false},
		{"media.s3-website.localhost", "", false},
		{"example.com", "", false},
	}
	for _, tt := range tests {
		got, ok := s3Bucket(tt.domain)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %q %v, want %q %v", tt.domain, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCompression(t *testing.T) {
	big := strings.Repeat("compress me ", 200)
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", q.Get("type"))
		w.Header().Set("ETag", `"v1"`)
		if ce := q.Get("ce"); ce != "" {
			w.Header().Set("Content-Encoding", ce)
		}
		body := big
		if q.Get("small") != "" {
			body = "tiny"
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(200)
		io.WriteString(w, body)
	})
	d := distribution([]api.Origin{customOrigin("o1", o)}, func(c *api.DistributionConfig) { c.DefaultCacheBehavior.Compress = ptr(true) })
	d.CachePolicies["optimized"].ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig.QueryStringBehavior = ptr("all")
	e, _ := newTestEdge(t, Config{}, d)
	tests := []struct {
		name, query, acceptEncoding string
		wantEncoding, wantETag      string
	}{
		{"brotli preferred", "type=text/html", "gzip, br", "br", `W/"v1"`},
		{"gzip", "type=text/css", "gzip", "gzip", `W/"v1"`},
		{"viewer takes none", "type=text/css", "", "", `"v1"`},
		{"type not listed", "type=image/png", "gzip, br", "", `"v1"`},
		{"below 1,000 bytes", "type=text/html&small=1", "gzip, br", "", `"v1"`},
		{"origin compressed already", "type=text/html&ce=deflate", "gzip, br", "deflate", `"v1"`},
		{"charset parameter", "type=text/html%3B+charset=utf-8", "gzip", "gzip", `W/"v1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.acceptEncoding != "" {
				h.Set("Accept-Encoding", tt.acceptEncoding)
			}
			resp := get(e, "GET", "http://example.com/f?"+tt.query, h)
			readBody(t, resp)
			got := [2]string{resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag")}
			if want := [2]string{tt.wantEncoding, tt.wantETag}; got != want {
				t.Errorf("got Content-Encoding, ETag %q, want %q", got, want)
			}
		})
	}
}

func TestRanges(t *testing.T) {
	o := newTestOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "0123456789")
	})
	e, _ := newTestEdge(t, Config{}, distribution([]api.Origin{customOrigin("o1", o)}, nil))
	tests := []struct {
		rangeHeader      string
		wantStatus       int
		wantBody         string
		wantContentRange string
	}{
		{"bytes=0-3", 206, "0123", "bytes 0-3/10"},
		{"bytes=7-", 206, "789", "bytes 7-9/10"},
		{"bytes=-2", 206, "89", "bytes 8-9/10"},
		{"bytes=5-100", 206, "56789", "bytes 5-9/10"},
		{"bytes=0-1,4-5", 200, "0123456789", ""}, // several ranges: the whole object
		{"bytes=5-2", 200, "0123456789", ""},
		{"bytes=20-", 416, "", "bytes */10"},
	}
	for _, tt := range tests {
		resp := get(e, "GET", "http://example.com/r", http.Header{"Range": {tt.rangeHeader}})
		got := readBody(t, resp)
		if resp.StatusCode != tt.wantStatus || got != tt.wantBody || resp.Header.Get("Content-Range") != tt.wantContentRange {
			t.Errorf("%s: got %d %q %q, want %d %q %q", tt.rangeHeader, resp.StatusCode, got, resp.Header.Get("Content-Range"),
				tt.wantStatus, tt.wantBody, tt.wantContentRange)
		}
	}
	if got := o.hits.Load(); got != 1 {
		t.Errorf("got %d origin fetches, want 1: ranges are served from the cached object", got)
	}
}
