package s3_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"overcast/internal/app"
	"overcast/internal/awsproto"
	"overcast/internal/awstest"
	s3svc "overcast/internal/s3"
)

func TestBucketPolicy(t *testing.T) {
	srv, c := startWithBucket(t, "policy")
	putObject(t, c, "policy", "public/a.txt", "public")
	putObject(t, c, "policy", "private/b.txt", "private")

	_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("policy")})
	wantError(t, "no policy", err, "NoSuchBucketPolicy", http.StatusNotFound)
	// Without a policy, anonymous callers get nothing.
	if status, _, _ := rawRequest(t, "GET", srv.URL+"/policy/public/a.txt", nil, nil); status != http.StatusForbidden {
		t.Errorf("anonymous GET without a policy: got %d, want 403", status)
	}

	for name, doc := range map[string]string{
		"not JSON":          `Version: 2012`,
		"bad version":       `{"Version":"2000-01-01","Statement":[]}`,
		"no statement":      `{"Version":"2012-10-17"}`,
		"bad effect":        `{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::policy/*"}]}`,
		"other bucket":      `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::elsewhere/*"}]}`,
		"non-s3 action":     `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"arn:aws:s3:::policy/*"}]}`,
		"missing principal": `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::policy/*"}]}`,
	} {
		_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("policy"), Policy: aws.String(doc)})
		wantError(t, name, err, "MalformedPolicy", http.StatusBadRequest)
	}

	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::policy/public/*"},
		{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::policy",
		 "Condition":{"StringLike":{"s3:prefix":"public/*"}}},
		{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::policy/public/*"}]}`
	awstest.Call(t, c.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: aws.String("policy"), Policy: aws.String(doc)})
	got, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("policy")})
	if err != nil || aws.ToString(got.Policy) != doc {
		t.Errorf("GetBucketPolicy: got %q, %v", aws.ToString(got.Policy), err)
	}
	status, err := c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("policy")})
	if err != nil || !aws.ToBool(status.PolicyStatus.IsPublic) {
		t.Errorf("policy status: %+v, %v; want public", status, err)
	}

	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/policy/public/a.txt", 200},
		{"HEAD", "/policy/public/a.txt", 200},
		{"GET", "/policy/private/b.txt", 403},
		{"GET", "/policy/public/missing", 403}, // no s3:ListBucket on the whole bucket: existence does not leak
		{"GET", "/policy?list-type=2&prefix=public/", 200},
		{"GET", "/policy?list-type=2", 403},
		{"PUT", "/policy/public/new", 403},
		{"DELETE", "/policy/public/a.txt", 403},
		{"GET", "/policy?policy", 403},
	}
	for _, tt := range tests {
		if got, _, body := rawRequest(t, tt.method, srv.URL+tt.path, nil, nil); got != tt.want {
			t.Errorf("anonymous %s %s: got %d, want %d (%s)", tt.method, tt.path, got, tt.want, body)
		}
	}
	// The explicit Deny binds the owner too.
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("policy"), Key: aws.String("public/a.txt")})
	wantError(t, "owner delete under a Deny", err, "AccessDenied", http.StatusForbidden)

	awstest.Call(t, c.DeleteBucketPolicy, &s3.DeleteBucketPolicyInput{Bucket: aws.String("policy")})
	if got, _, _ := rawRequest(t, "GET", srv.URL+"/policy/public/a.txt", nil, nil); got != 403 {
		t.Errorf("anonymous GET after DeleteBucketPolicy: got %d, want 403", got)
	}
}

// TestCrossAccount: another account's keys need a policy Allow.
func TestCrossAccount(t *testing.T) {
	srv, c := startWithBucket(t, "shared")
	putObject(t, c, "shared", "k", "v")
	other := newClient(srv, signedBy("111122223333", "x"))
	_, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String("k")})
	wantError(t, "other account without a grant", err, "AccessDenied", http.StatusForbidden)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`
	awstest.Call(t, c.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: aws.String("shared"), Policy: aws.String(doc)})
	if got := getObject(t, other, "shared", "k"); got != "v" {
		t.Errorf("granted account: got %q", got)
	}
	_, err = other.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantError(t, "write by the granted account", err, "AccessDenied", http.StatusForbidden)
}

func TestPublicAccessBlock(t *testing.T) {
	srv, c := startWithBucket(t, "pab")
	putObject(t, c, "pab", "k", "v")
	_, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("pab")})
	wantError(t, "no configuration", err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
	awstest.Call(t, c.PutPublicAccessBlock, &s3.PutPublicAccessBlockInput{Bucket: aws.String("pab"),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true)}})
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pab/*"}]}`
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pab"), Policy: aws.String(public)})
	wantError(t, "public policy under BlockPublicPolicy", err, "AccessDenied", http.StatusForbidden)
	pinned := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pab/*",
		"Condition":{"StringEquals":{"AWS:SourceArn":"arn:aws:cloudfront::000000000000:distribution/E1"}}}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pab"), Policy: aws.String(pinned)}); err != nil {
		t.Errorf("non-public policy under BlockPublicPolicy: %v", err)
	}

	// RestrictPublicBuckets: a public policy stored before is ignored.
	if _, err := c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("pab")}); err != nil {
		t.Fatal(err)
	}
	awstest.Call(t, c.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: aws.String("pab"), Policy: aws.String(public)})
	if got, _, _ := rawRequest(t, "GET", srv.URL+"/pab/k", nil, nil); got != 200 {
		t.Errorf("public policy: got %d, want 200", got)
	}
	awstest.Call(t, c.PutPublicAccessBlock, &s3.PutPublicAccessBlockInput{Bucket: aws.String("pab"),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true)}})
	if got, _, _ := rawRequest(t, "GET", srv.URL+"/pab/k", nil, nil); got != 403 {
		t.Errorf("public policy under RestrictPublicBuckets: got %d, want 403", got)
	}
	if got := getObject(t, c, "pab", "k"); got != "v" {
		t.Errorf("owner under RestrictPublicBuckets: %q", got)
	}
	out, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("pab")})
	if err != nil || !aws.ToBool(out.PublicAccessBlockConfiguration.RestrictPublicBuckets) || aws.ToBool(out.PublicAccessBlockConfiguration.BlockPublicAcls) {
		t.Errorf("GetPublicAccessBlock: %+v, %v", out.PublicAccessBlockConfiguration, err)
	}
}

// TestReadObjectAs is CloudFront's way in: a service principal with a
// distribution ARN, judged by the bucket policy.
func TestReadObjectAs(t *testing.T) {
	srv, c := startWithBucket(t, "origin")
	putObject(t, c, "origin", "index.html", "<h1>cdn</h1>", func(in *s3.PutObjectInput) { in.ContentType = aws.String("text/html") })
	svc := app.ServiceOf[*s3svc.Service](srv.Main)
	const dist = "arn:aws:cloudfront::000000000000:distribution/EDFDVBD6EXAMPLE"
	read := func(sourceARN string, h http.Header) (int, string, http.Header) {
		resp, err := svc.ReadObjectAs(context.Background(), "cloudfront.amazonaws.com", sourceARN, "GET", "origin", "index.html", h)
		if apiErr, ok := awsproto.AsAPIError(err); ok {
			return apiErr.HTTPStatusCode(), apiErr.ErrorCode(), nil
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if status, _, _ := read(dist, nil); status != 403 {
		t.Errorf("no policy: got %d, want 403", status)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"AllowCloudFrontServicePrincipal","Effect":"Allow",
		"Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::origin/*",
		"Condition":{"StringEquals":{"AWS:SourceArn":"` + dist + `"}}}]}`
	awstest.Call(t, c.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: aws.String("origin"), Policy: aws.String(doc)})
	status, body, h := read(dist, nil)
	if status != 200 || body != "<h1>cdn</h1>" || h.Get("Content-Type") != "text/html" || h.Get("ETag") == "" {
		t.Errorf("allowed distribution: got %d %q %v", status, body, h)
	}
	if status, _, _ := read("arn:aws:cloudfront::000000000000:distribution/OTHER", nil); status != 403 {
		t.Errorf("another distribution: got %d, want 403", status)
	}
	if status, body, _ := read(dist, http.Header{"Range": {"bytes=4-6"}}); status != 206 || body != "cdn" {
		t.Errorf("range: got %d %q", status, body)
	}
	if status, _, _ := read(dist, http.Header{"If-None-Match": {h.Get("ETag")}}); status != 304 {
		t.Errorf("revalidation: got %d, want 304", status)
	}
	// Anonymous callers are still refused: the policy names CloudFront.
	if got, _, _ := rawRequest(t, "GET", srv.URL+"/origin/index.html", nil, nil); got != 403 {
		t.Errorf("anonymous: got %d", got)
	}

	// A legacy origin access identity is named by its ARN.
	const oai = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHEXAMPLE"
	readAsOAI := func(id string) int {
		resp, err := svc.ReadObjectAs(context.Background(), id, "", "GET", "origin", "index.html", nil)
		if apiErr, ok := awsproto.AsAPIError(err); ok {
			return apiErr.HTTPStatusCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := readAsOAI(oai); got != 403 {
		t.Errorf("identity the policy does not name: got %d, want 403", got)
	}
	doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + oai + `"},
		"Action":"s3:GetObject","Resource":"arn:aws:s3:::origin/*"}]}`
	awstest.Call(t, c.PutBucketPolicy, &s3.PutBucketPolicyInput{Bucket: aws.String("origin"), Policy: aws.String(doc)})
	if got := readAsOAI(oai); got != 200 {
		t.Errorf("identity the policy names: got %d, want 200", got)
	}
	if got := readAsOAI(strings.Replace(oai, "E2QWRUHEXAMPLE", "EOTHER", 1)); got != 403 {
		t.Errorf("another identity: got %d, want 403", got)
	}
}

// TestPresigned: URLs presigned by the SDK work with plain net/http.
func TestPresigned(t *testing.T) {
	srv, c := startWithBucket(t, "presign")
	// A real IAM key, so that signatures are verified.
	signer := newClient(srv, signedBy(userKey(t, srv, "presigner")))
	ps := s3.NewPresignClient(signer)
	put, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("presign"), Key: aws.String("up load.txt")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := rawRequest(t, put.Method, put.URL, []byte("presigned body"), nil); status != 200 {
		t.Fatalf("presigned PUT: got %d %s", status, body)
	}
	get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("presign"), Key: aws.String("up load.txt")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := rawRequest(t, "GET", get.URL, nil, nil); status != 200 || body != "presigned body" {
		t.Errorf("presigned GET: got %d %q", status, body)
	}
	if got := getObject(t, c, "presign", "up load.txt"); got != "presigned body" {
		t.Errorf("object from the presigned PUT: %q", got)
	}
	if status, _, body := rawRequest(t, "GET", strings.Replace(get.URL, "X-Amz-Signature=", "X-Amz-Signature=0", 1), nil, nil); status != 403 ||
		!strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("tampered presigned GET: got %d %s", status, body)
	}
	// Virtual-hosted presigned URLs sign the path as sent.
	vhost := s3.NewFromConfig(srv.Config(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(localhostURL(srv, "s3.localhost"))
		o.Credentials = signer.Options().Credentials
	})
	vget, err := s3.NewPresignClient(vhost).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("presign"), Key: aws.String("up load.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(vget.URL, "http://presign.s3.localhost:") {
		t.Fatalf("virtual-hosted URL: %s", vget.URL)
	}
	resp, err := localhostDialer(srv).Get(vget.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "presigned body" {
		t.Errorf("virtual-hosted presigned GET: got %d %q", resp.StatusCode, b)
	}
}

// TestPresignedV2: query-string authentication version 2, which aws CLI
// v1's `s3 presign` produces, is verified against the key's secret.
func TestPresignedV2(t *testing.T) {
	srv, c := startWithBucket(t, "sigv2")
	putObject(t, c, "sigv2", "dir/a b.txt", "signed v2")
	id, secret := userKey(t, srv, "v2user")
	sign := func(path string, expires int64, secret string) string {
		mac := hmac.New(sha1.New, []byte(secret))
		fmt.Fprintf(mac, "GET\n\n\n%d\n%s", expires, path)
		return srv.URL + path + "?AWSAccessKeyId=" + id + "&Expires=" + fmt.Sprint(expires) +
			"&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	exp := time.Now().Add(time.Minute).Unix()
	if status, _, body := rawRequest(t, "GET", sign("/sigv2/dir/a%20b.txt", exp, secret), nil, nil); status != 200 || body != "signed v2" {
		t.Errorf("V2 presigned GET: got %d %q", status, body)
	}
	if status, _, body := rawRequest(t, "GET", sign("/sigv2/dir/a%20b.txt", exp, "wrong"), nil, nil); status != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: got %d %s", status, body)
	}
	if status, _, body := rawRequest(t, "GET", sign("/sigv2/dir/a%20b.txt", time.Now().Add(-time.Minute).Unix(), secret), nil, nil); status != 403 || !strings.Contains(body, "expired") {
		t.Errorf("expired: got %d %s", status, body)
	}
}

// TestStrict: under --strict, signatures are checked and unknown keys
// refused, while anonymous requests remain anonymous (bucket policies
// decide), as on AWS.
func TestStrict(t *testing.T) {
	srv, c := startWithBucket(t, "strict", awstest.Strict())
	putObject(t, c, "strict", "k", "v")
	if status, _, _ := rawRequest(t, "GET", srv.URL+"/strict/k", nil, nil); status != 403 {
		t.Errorf("anonymous GET of a private object: got %d, want 403", status)
	}
	makePublic(t, c, "strict")
	if status, _, body := rawRequest(t, "GET", srv.URL+"/strict/k", nil, nil); status != 200 || body != "v" {
		t.Errorf("anonymous GET of a public object: got %d %q", status, body)
	}
	unknown := newClient(srv, signedBy("AKIAUNKNOWN", "x"))
	_, err := unknown.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantError(t, "unknown key", err, "InvalidAccessKeyId", http.StatusForbidden)
}
