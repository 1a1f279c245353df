package s3_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"overcast/internal/awstest"
)

var ctx = context.Background()

// newClient is an S3 client for srv with path-style addressing.
func newClient(srv *awstest.Server, opts ...func(*s3.Options)) *s3.Client {
	return s3.NewFromConfig(srv.Config(), append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}, opts...)...)
}

// start runs overcast and returns it with a path-style client.
func start(t *testing.T, opts ...awstest.Option) (*awstest.Server, *s3.Client) {
	t.Helper()
	srv := awstest.Start(t, opts...)
	return srv, newClient(srv)
}

// startWithBucket is start, with a bucket of the given name made by the
// client, as most tests begin.
func startWithBucket(t *testing.T, bucket string, opts ...awstest.Option) (*awstest.Server, *s3.Client) {
	t.Helper()
	srv, c := start(t, opts...)
	createBucket(t, c, bucket)
	return srv, c
}

// trailingSlash makes a client address bucket requests as "/<bucket>/",
// signed so, as the AWS SDK for JavaScript v3 does with forcePathStyle.
func trailingSlash(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		// After the endpoint resolution puts the bucket in the path.
		return st.Finalize.Insert(middleware.FinalizeMiddlewareFunc("TrailingSlash",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok && len(req.URL.Path) > 1 && strings.Count(req.URL.Path, "/") == 1 {
					req.URL.Path += "/"
					if req.URL.RawPath != "" {
						req.URL.RawPath += "/"
					}
				}
				return next.HandleFinalize(ctx, in)
			}), "Signing", middleware.Before)
	})
}

// signedBy makes a client sign with the given key.
func signedBy(id, secret string) func(*s3.Options) {
	return func(o *s3.Options) { o.Credentials = credentials.NewStaticCredentialsProvider(id, secret, "") }
}

// userKey creates an IAM user of the default account and an access key
// for it: a key whose signatures overcast verifies.
func userKey(t *testing.T, srv *awstest.Server, name string) (id, secret string) {
	t.Helper()
	iamc := iam.NewFromConfig(srv.Config())
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey(%s): %v", name, err)
	}
	return aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
}

// localhostDialer resolves every *.localhost name to the server, as
// systemd-resolved and browsers do, on machines whose resolver does not.
func localhostDialer(srv *awstest.Server) *http.Client {
	u, _ := url.Parse(srv.URL)
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, _ := net.SplitHostPort(addr)
			if host == "localhost" || strings.HasSuffix(host, ".localhost") {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			if port == u.Port() {
				addr = u.Host
			}
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// localhostURL is srv's endpoint under the host name s3.localhost.
func localhostURL(srv *awstest.Server, host string) string {
	u, _ := url.Parse(srv.URL)
	return "http://" + host + ":" + u.Port()
}

// newVirtualHostClient uses virtual-hosted-style addressing against
// http://s3.localhost:PORT, as the SDK does by default.
func newVirtualHostClient(srv *awstest.Server) *s3.Client {
	return s3.NewFromConfig(srv.Config(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(localhostURL(srv, "s3.localhost"))
		o.HTTPClient = localhostDialer(srv)
	})
}

func createBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket(%s): %v", name, err)
	}
}

func putObject(t *testing.T, c *s3.Client, bucket, key, body string, opts ...func(*s3.PutObjectInput)) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}
	for _, o := range opts {
		o(in)
	}
	out, err := c.PutObject(ctx, in)
	if err != nil {
		t.Fatalf("PutObject(%s/%s): %v", bucket, key, err)
	}
	return out
}

func getObject(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject(%s/%s): %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantError checks a call failed with code and status; an empty code is
// not checked (HEAD responses have no body to carry one).
func wantError(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want %s (%d)", what, code, status)
		return
	}
	if got := awstest.ErrorCode(err); code != "" && got != code {
		t.Errorf("%s: got error code %q (%v), want %q", what, got, err, code)
	}
	if got := awstest.HTTPStatus(err); status != 0 && got != status {
		t.Errorf("%s: got status %d, want %d", what, got, status)
	}
}

// wantOutcome checks a call of a table that expects success (a zero want)
// or the AWS error want.
func wantOutcome(t *testing.T, name string, err error, want awstest.APIError) {
	t.Helper()
	if want == (awstest.APIError{}) {
		if err != nil {
			t.Errorf("%s: got %v, want success", name, err)
		}
		return
	}
	if !awstest.WantAPIError(t, err, want) {
		t.Logf("(%s)", name)
	}
}

// noRedirects is a client that reports redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// rawRequest sends a request with net/http and returns status, headers and
// body. A Host in header is the host the request names (net/http sends
// req.Host, not a Host header); redirects are returned, not followed.
func rawRequest(t *testing.T, method, u string, body []byte, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if host := header.Get("Host"); host != "" {
		req.Host = host
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// rawHeaderNames sends an unsigned request over a bare connection and
// returns the response's header names as sent, which net/http would
// canonicalise.
func rawHeaderNames(t *testing.T, method, u string) []string {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", pu.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", method, pu.RequestURI(), pu.Host)
	tp := textproto.NewReader(bufio.NewReader(conn))
	status, err := tp.ReadLine()
	if err != nil || !strings.Contains(status, " 200 ") {
		t.Fatalf("%s %s: got %q, %v; want 200", method, u, status, err)
	}
	var names []string
	for {
		line, err := tp.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		if line == "" {
			return names
		}
		name, _, _ := strings.Cut(line, ":")
		names = append(names, name)
	}
}

// makePublic gives a bucket a public-read policy.
func makePublic(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*",` +
		`"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::` + bucket + `/*"}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
}
