package s3_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// website GETs url from the website endpoint host names.
func website(t *testing.T, host, url string) (int, http.Header, string) {
	t.Helper()
	return rawRequest(t, "GET", url, nil, http.Header{"Host": {host}})
}

func TestWebsite(t *testing.T) {
	srv, c := startWithBucket(t, "site")
	html := func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/html") }
	putObject(t, c, "site", "index.html", "home", html)
	putObject(t, c, "site", "docs/index.html", "docs home", html)
	putObject(t, c, "site", "docs/page.html", "a page", html)
	putObject(t, c, "site", "404.html", "custom not found", html)
	putObject(t, c, "site", "moved", "", func(in *s3.PutObjectInput) { in.WebsiteRedirectLocation = aws.String("/docs/page.html") })
	makePublic(t, c, "site")
	listable := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::site"}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("site"), Policy: aws.String(listable)}); err != nil {
		t.Fatal(err)
	}

	byPath := srv.URL + "/_overcast/s3-website/site"
	status, _, body := website(t, "", byPath+"/")
	if status != 404 || !strings.Contains(body, "NoSuchWebsiteConfiguration") {
		t.Errorf("before PutBucketWebsite: got %d %s", status, body)
	}

	_, err := c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("site"), WebsiteConfiguration: &types.WebsiteConfiguration{}})
	wantError(t, "no index document", err, "InvalidArgument", http.StatusBadRequest)
	if _, err := c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("site"), WebsiteConfiguration: &types.WebsiteConfiguration{
		IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")},
		ErrorDocument: &types.ErrorDocument{Key: aws.String("404.html")},
		RoutingRules: []types.RoutingRule{
			{Condition: &types.Condition{KeyPrefixEquals: aws.String("old/")}, Redirect: &types.Redirect{ReplaceKeyPrefixWith: aws.String("docs/")}},
			{Condition: &types.Condition{HttpErrorCodeReturnedEquals: aws.String("404"), KeyPrefixEquals: aws.String("gone/")},
				Redirect: &types.Redirect{HostName: aws.String("example.com"), HttpRedirectCode: aws.String("302")}},
		},
	}}); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String("site")})
	if err != nil || aws.ToString(cfg.IndexDocument.Suffix) != "index.html" || len(cfg.RoutingRules) != 2 {
		t.Errorf("GetBucketWebsite: %+v, %v", cfg, err)
	}

	hostBase := localhostURL(srv, "127.0.0.1")
	tests := []struct {
		name, host, url string
		status          int
		body, location  string
	}{
		{"index by path", "", byPath + "/", 200, "home", ""},
		{"index by host", "site.s3-website.localhost", hostBase + "/", 200, "home", ""},
		{"region host", "site.s3-website-us-east-1.localhost", hostBase + "/docs/", 200, "docs home", ""},
		{"page", "site.s3-website.localhost", hostBase + "/docs/page.html", 200, "a page", ""},
		{"directory without slash", "site.s3-website.localhost", hostBase + "/docs", 302, "", "/docs/"},
		{"directory without slash by path", "", byPath + "/docs", 302, "", "/_overcast/s3-website/site/docs/"},
		{"error document", "site.s3-website.localhost", hostBase + "/missing", 404, "custom not found", ""},
		{"object redirect", "site.s3-website.localhost", hostBase + "/moved", 301, "", "/docs/page.html"},
		{"prefix rule", "site.s3-website.localhost", hostBase + "/old/page.html", 301, "", "http://site.s3-website.localhost/docs/page.html"},
		{"error-code rule", "site.s3-website.localhost", hostBase + "/gone/x", 302, "", "http://example.com/gone/x"},
	}
	for _, tt := range tests {
		status, h, body := website(t, tt.host, tt.url)
		if status != tt.status || (tt.body != "" && body != tt.body) || h.Get("Location") != tt.location {
			t.Errorf("%s: got %d %q Location %q; want %d %q %q", tt.name, status, body, h.Get("Location"), tt.status, tt.body, tt.location)
		}
	}

	// Without an error document, AWS's HTML page.
	if _, err := c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("site"), WebsiteConfiguration: &types.WebsiteConfiguration{
		IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")}}}); err != nil {
		t.Fatal(err)
	}
	status, h, body := website(t, "", byPath+"/missing.html")
	if status != 404 || h.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(body, "<h1>404 Not Found</h1>") ||
		!strings.Contains(body, "<li>Code: NoSuchKey</li>") || !strings.Contains(body, "<li>Key: missing.html</li>") {
		t.Errorf("HTML 404: got %d %v\n%s", status, h, body)
	}
	// A private object is 403.
	if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("site")}); err != nil {
		t.Fatal(err)
	}
	if status, _, body := website(t, "", byPath+"/"); status != 403 || !strings.Contains(body, "<h1>403 Forbidden</h1>") {
		t.Errorf("private website: got %d %s", status, body)
	}
	if status, _, body := website(t, "", srv.URL+"/_overcast/s3-website/nobucket/"); status != 404 || !strings.Contains(body, "NoSuchBucket") {
		t.Errorf("missing bucket: got %d %s", status, body)
	}

	// RedirectAllRequestsTo.
	createBucket(t, c, "redirector")
	if _, err := c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("redirector"), WebsiteConfiguration: &types.WebsiteConfiguration{
		RedirectAllRequestsTo: &types.RedirectAllRequestsTo{HostName: aws.String("www.example.com"), Protocol: types.ProtocolHttps}}}); err != nil {
		t.Fatal(err)
	}
	if status, h, _ := website(t, "redirector.s3-website.localhost", hostBase+"/a/b?c=d"); status != 301 || h.Get("Location") != "https://www.example.com/a/b?c=d" {
		t.Errorf("redirect all: got %d %q", status, h.Get("Location"))
	}
	if _, err := c.DeleteBucketWebsite(ctx, &s3.DeleteBucketWebsiteInput{Bucket: aws.String("redirector")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: aws.String("redirector")})
	wantError(t, "after delete", err, "NoSuchWebsiteConfiguration", http.StatusNotFound)
}

func TestCORS(t *testing.T) {
	srv, c := startWithBucket(t, "cors")
	putObject(t, c, "cors", "k", "v")
	// GetBucketCors before any PutBucketCors is in the errors table.
	_, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("cors"), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{{AllowedMethods: []string{"PATCH"}, AllowedOrigins: []string{"*"}}}}})
	wantError(t, "unsupported method", err, "InvalidRequest", http.StatusBadRequest)
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("cors"), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{
			{AllowedMethods: []string{"GET", "PUT"}, AllowedOrigins: []string{"https://*.example.com"}, AllowedHeaders: []string{"x-amz-*", "content-type"},
				ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(600)},
			{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}},
		}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("cors")})
	if err != nil || len(got.CORSRules) != 2 {
		t.Fatalf("GetBucketCors: %+v, %v", got, err)
	}

	preflight := func(u, origin, method, headers string) (int, http.Header, string) {
		h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
		if headers != "" {
			h.Set("Access-Control-Request-Headers", headers)
		}
		return rawRequest(t, "OPTIONS", u, nil, h)
	}
	status, h, _ := preflight(srv.URL+"/cors/k", "https://app.example.com", "PUT", "Content-Type, X-Amz-Date")
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || h.Get("Access-Control-Allow-Methods") != "GET, PUT" ||
		h.Get("Access-Control-Max-Age") != "600" || h.Get("Access-Control-Allow-Headers") != "content-type, x-amz-date" {
		t.Errorf("matching preflight: got %d %v", status, h)
	}
	status, h, _ = preflight(srv.URL+"/cors/k", "https://evil.test", "GET", "")
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("wildcard rule: got %d %v", status, h)
	}
	status, _, body := preflight(srv.URL+"/cors/k", "https://evil.test", "PUT", "")
	if status != 403 || !strings.Contains(body, "CORSResponse") {
		t.Errorf("refused preflight: got %d %s", status, body)
	}
	status, _, _ = preflight(srv.URL+"/cors/k", "https://app.example.com", "PUT", "x-forbidden")
	if status != 403 {
		t.Errorf("header not allowed: got %d, want 403", status)
	}
	// Virtual-host preflight.
	status, h, _ = rawRequest(t, "OPTIONS", localhostURL(srv, "127.0.0.1")+"/k", nil, http.Header{"Host": {"cors.s3.localhost"},
		"Origin": {"https://app.example.com"}, "Access-Control-Request-Method": {"GET"}})
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("virtual-host preflight: got %d %v", status, h)
	}
	// Actual requests carry the rule's headers.
	makePublic(t, c, "cors")
	status, h, _ = rawRequest(t, "GET", srv.URL+"/cors/k", nil, http.Header{"Origin": {"https://app.example.com"}})
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || h.Get("Access-Control-Expose-Headers") != "ETag" {
		t.Errorf("actual request: got %d %v", status, h)
	}
	// A bucket without CORS keeps the gateway's permissive default.
	createBucket(t, c, "nocors")
	status, h, _ = preflight(srv.URL+"/nocors/k", "https://any.test", "DELETE", "")
	if status != 200 || h.Get("Access-Control-Allow-Origin") != "https://any.test" {
		t.Errorf("bucket without CORS: got %d %v", status, h)
	}
	if _, err := c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("cors")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("cors")})
	wantError(t, "after delete", err, "NoSuchCORSConfiguration", http.StatusNotFound)
}
