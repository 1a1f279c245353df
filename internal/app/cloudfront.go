package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"

	"overcast"
	"overcast/internal/acm"
	cloudfrontapi "overcast/internal/api/cloudfront"
	s3api "overcast/internal/api/s3"
	"overcast/internal/awsproto"
	"overcast/internal/cloudfront"
	"overcast/internal/cloudfront/edge"
	"overcast/internal/cloudfront/functions"
	"overcast/internal/geoip"
	"overcast/internal/s3"
	"overcast/internal/service"
)

// cloudfrontEdge builds CloudFront's edge: S3 origins read through S3,
// viewers placed by the GeoIP database, HTTPS with certificates of the
// local CA (ACM's), and standard logs written to S3.
func cloudfrontEdge(env *service.Env, cfg Config, geo *geoip.Locator, s3Svc *s3.Service, acmSvc *acm.Service) (*edge.Edge, error) {
	ec := edge.Config{DataDir: filepath.Join(env.DataDir, "cloudfront-edge"), Now: env.Clock.Now,
		Logger: env.Logger.With("service", "cloudfront-edge"), Buckets: edgeBuckets{s3Svc},
		Logs: edgeLogs{s3Svc}, HTTPSAddr: cloudfrontHTTPSAddr(cfg), Certificates: edgeCertificates{acmSvc}}
	if geo != nil {
		ec.CountryOf = geo.Country
	}
	return edge.New(ec)
}

// cloudfrontHTTPSAddr is where viewers reach distributions over HTTPS:
// the configured address, else the API's host on port 4443 when the API
// has the default port 4566, else any free port of that host.
func cloudfrontHTTPSAddr(cfg Config) string {
	return sideListenerAddr(cfg, cfg.CloudFrontHTTPSAddr, "4443")
}

// sideListenerAddr is the address of a listener beside the API's:
// configured when set, else the API's host on defaultPort when the API
// has the default port 4566, else any free port of that host (several
// overcasts on other ports, as tests run them, must not collide).
func sideListenerAddr(cfg Config, configured, defaultPort string) string {
	if configured != "" {
		return configured
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return ""
	}
	if port == "4566" {
		return net.JoinHostPort(host, defaultPort)
	}
	return net.JoinHostPort(host, "0")
}

// CloudFrontHTTPSAddr is where CloudFront's edge answers viewers over
// HTTPS, "" when it does not.
func (m *Main) CloudFrontHTTPSAddr() string {
	return ServiceOf[*cloudfront.Service](m).HTTPSAddr()
}

// edgeCertificates gives the edge's HTTPS viewers the local CA's
// certificate for *.cloudfront.localhost, as AWS serves *.cloudfront.net,
// and for an alias the ACM certificate its distribution names.
type edgeCertificates struct{ acm *acm.Service }

var _ edge.Certificates = edgeCertificates{}

func (c edgeCertificates) Certificate(host, acmARN string) (*tls.Certificate, error) {
	ctx := context.Background()
	if acmARN == "" {
		return c.acm.ServerCertificate(ctx, "*"+edge.DomainSuffix, strings.TrimPrefix(edge.DomainSuffix, "."))
	}
	a, ok := overcast.ParseARN(acmARN)
	if !ok {
		return nil, fmt.Errorf("cloudfront: %q is no certificate ARN", acmARN)
	}
	return c.acm.TLSCertificate(ctx, a.AccountID, a.Region, acmARN)
}

// edgeLogs writes standard access logs as the account that owns the
// distribution: enabling logging is the grant, as CloudFront's ACL grant
// to its log delivery account is on AWS.
type edgeLogs struct{ s3 *s3.Service }

var _ edge.LogSink = edgeLogs{}

func (l edgeLogs) PutLog(ctx context.Context, account, bucket, key string, body []byte) error {
	ctx = overcast.WithCaller(ctx, overcast.RootCaller(account, "us-east-1"))
	size := int64(len(body))
	_, err := l.s3.PutObject(ctx, &s3api.PutObjectRequest{Bucket: &bucket, Key: &key,
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: &size})
	return err
}

// cloudfrontFunctions runs CloudFront's TestFunction on the CloudFront
// Functions runtime, its refusals in the API's terms.
type cloudfrontFunctions struct{}

var _ cloudfront.FunctionTester = cloudfrontFunctions{}

func (cloudfrontFunctions) Test(ctx context.Context, runtime string, code, eventObject []byte) (cloudfront.TestOutput, error) {
	out, err := functions.Test(ctx, runtime, code, eventObject)
	var (
		syntax   *functions.SyntaxError
		badEvent *functions.EventError
	)
	switch {
	case errors.Is(err, functions.ErrCodeTooLarge):
		return cloudfront.TestOutput{}, cloudfrontapi.NewFunctionSizeLimitExceeded("%v", err)
	case errors.As(err, &syntax), errors.As(err, &badEvent), errors.Is(err, functions.ErrUnknownRuntime):
		return cloudfront.TestOutput{}, cloudfrontapi.NewInvalidArgument("%v", err)
	case err != nil:
		return cloudfront.TestOutput{}, err
	}
	return cloudfront.TestOutput{Output: []byte(out.FunctionOutput), Logs: out.FunctionExecutionLogs,
		ErrorMessage: out.FunctionErrorMessage, ComputeUtilization: out.ComputeUtilization}, nil
}

// edgeBuckets lets CloudFront's edge read S3 origins as AWS's edge does:
// as the service principal cloudfront.amazonaws.com for the distribution
// (origin access control), as an origin access identity, or anonymously;
// the bucket policy decides. S3's refusals reach the edge as S3 answers
// them over HTTP, for it to pass on or cache.
type edgeBuckets struct{ s3 *s3.Service }

var _ edge.Buckets = edgeBuckets{}

func (b edgeBuckets) Serve(ctx context.Context, bucket string, r *http.Request, as edge.Requester) (*http.Response, error) {
	principal, source := "", ""
	switch {
	case as.DistributionARN != "":
		principal, source = "cloudfront.amazonaws.com", as.DistributionARN
	case as.OAI != "":
		principal = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity " + as.OAI
	}
	resp, err := b.s3.ReadObjectAs(ctx, principal, source, r.Method, bucket, strings.TrimPrefix(r.URL.Path, "/"), r.Header)
	refusal, ok := awsproto.AsAPIError(err)
	if err == nil || !ok {
		return resp, err
	}
	var body bytes.Buffer
	if refusal.HTTPStatusCode() != http.StatusNotModified {
		body.WriteString(xml.Header + "<Error><Code>")
		xml.EscapeText(&body, []byte(refusal.ErrorCode()))
		body.WriteString("</Code><Message>")
		xml.EscapeText(&body, []byte(refusal.ErrorMessage()))
		body.WriteString("</Message></Error>")
	}
	return &http.Response{StatusCode: refusal.HTTPStatusCode(), Header: http.Header{"Content-Type": {"application/xml"}},
		Body: io.NopCloser(&body), ContentLength: int64(body.Len()), Request: r}, nil
}
