package cloudfront_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"overcast/internal/awstest"
)

// viewerGet is a viewer's GET of path at the server url, for host.
func viewerGet(t *testing.T, url, host, path string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+path, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// originPort serves h on loopback while the test runs and returns its
// port, for a distribution's custom origin.
func originPort(t *testing.T, h http.HandlerFunc) *int32 {
	t.Helper()
	origin := httptest.NewServer(h)
	t.Cleanup(origin.Close)
	_, port, _ := net.SplitHostPort(origin.Listener.Addr().String())
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return aws.Int32(int32(p))
}

// TestEdgeServesDeployedDistribution goes through the control plane to
// the edge: a deployed distribution answers at its DomainName from its
// origin, caches, and an invalidation makes the next request a miss.
func TestEdgeServesDeployedDistribution(t *testing.T) {
	var fetches atomic.Int32
	port := originPort(t, func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Cache-Control", "max-age=3600")
		io.WriteString(w, "hello from the origin")
	})

	srv := awstest.Start(t)
	c := cloudfront.NewFromConfig(srv.Config())
	cfg := config("edge")
	cfg.Origins.Items[0].CustomOriginConfig.HTTPPort = port
	d := create(t, c, cfg).Distribution
	waitDeployed(t, c, aws.ToString(d.Id))

	get := func() (string, string) {
		t.Helper()
		_, body, h := viewerGet(t, srv.URL, aws.ToString(d.DomainName), "/index.html")
		return body, h.Get("X-Cache")
	}
	for i, want := range []string{"Miss from cloudfront", "Hit from cloudfront"} {
		body, cache := get()
		if body != "hello from the origin" || cache != want {
			t.Errorf("request %d: got %q, X-Cache %q; want the origin's body, %q", i+1, body, cache, want)
		}
	}
	inv := awstest.Call(t, c.CreateInvalidation, &cloudfront.CreateInvalidationInput{DistributionId: d.Id, InvalidationBatch: batch("purge", "/*")})
	awstest.WaitFor(t, "invalidation completed", func() bool {
		got := awstest.Call(t, c.GetInvalidation, &cloudfront.GetInvalidationInput{DistributionId: d.Id, Id: inv.Invalidation.Id})
		return aws.ToString(got.Invalidation.Status) == "Completed"
	})
	if _, cache := get(); cache != "Miss from cloudfront" {
		t.Errorf("after the invalidation: got X-Cache %q, want a miss", cache)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("got %d origin fetches, want 2 (the first miss and the one after the invalidation)", n)
	}

	// Viewers reach the distribution over HTTPS too, with a certificate a
	// client that trusts the local CA (served by ACM) verifies.
	_, caPEM, _ := viewerGet(t, srv.URL, "127.0.0.1", "/_overcast/acm/ca.pem")
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(caPEM)) {
		t.Fatalf("the local CA: got %q", caPEM)
	}
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: aws.ToString(d.DomainName)}}}
	req, _ := http.NewRequest("GET", "https://"+srv.Main.CloudFrontHTTPSAddr()+"/index.html", nil)
	req.Host = aws.ToString(d.DomainName)
	resp, err := https.Do(req)
	if err != nil {
		t.Fatalf("HTTPS viewer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello from the origin" || resp.Header.Get("X-Cache") != "Hit from cloudfront" {
		t.Errorf("HTTPS viewer: got %q, X-Cache %q; want the cached body", body, resp.Header.Get("X-Cache"))
	}

	// A restarted overcast deploys the distribution to its new edge again.
	srv.Restart(t)
	c = cloudfront.NewFromConfig(srv.Config())
	waitDeployed(t, c, aws.ToString(d.Id))
	awstest.WaitFor(t, "the edge serves the distribution after a restart", func() bool {
		body, _ := get()
		return body == "hello from the origin"
	})
}

// TestPrivateBucketThroughOriginAccessControl: a bucket whose policy lets
// only the distribution in (cloudfront.amazonaws.com with its ARN as
// AWS:SourceArn) is served through the distribution and refused to anyone
// reading it directly.
func TestPrivateBucketThroughOriginAccessControl(t *testing.T) {
	srv := awstest.Start(t)
	c := cloudfront.NewFromConfig(srv.Config())
	bucket := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	awstest.Call(t, bucket.CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("private")})
	awstest.Call(t, bucket.PutObject, &s3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String("secret.txt"),
		Body: strings.NewReader("only through the distribution")})

	oac := createOAC(t, c, "private")
	cfg := config("private")
	cfg.Origins.Items[0] = types.Origin{Id: aws.String("web"), DomainName: aws.String("private.s3.us-east-1.amazonaws.com"),
		S3OriginConfig: &types.S3OriginConfig{OriginAccessIdentity: aws.String("")}, OriginAccessControlId: oac.OriginAccessControl.Id}
	d := create(t, c, cfg).Distribution
	policy := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
		"Action": "s3:GetObject", "Resource": "arn:aws:s3:::private/*",
		"Condition": {"StringEquals": {"AWS:SourceArn": "` + aws.ToString(d.ARN) + `"}}}]}`
	awstest.Call(t, bucket.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: aws.String("private"), Policy: aws.String(policy)})
	waitDeployed(t, c, aws.ToString(d.Id))

	status := func(host, path string) (int, string) {
		t.Helper()
		code, body, _ := viewerGet(t, srv.URL, host, path)
		return code, body
	}
	if code, body := status(aws.ToString(d.DomainName), "/secret.txt"); code != 200 || body != "only through the distribution" {
		t.Errorf("through the distribution: got %d %q, want 200 and the object", code, body)
	}
	if code, _ := status(strings.TrimPrefix(srv.URL, "http://"), "/private/secret.txt"); code != http.StatusForbidden {
		t.Errorf("read directly and anonymously: got %d, want 403", code)
	}
	if code, _ := status(aws.ToString(d.DomainName), "/missing.txt"); code != http.StatusForbidden {
		t.Errorf("a missing object through the distribution: got %d, want 403 (S3's answer without s3:ListBucket)", code)
	}
}
