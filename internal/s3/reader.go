package s3

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"

	"overcast"
	"overcast/internal/awsproto"
)

// originAccessIdentityARN starts the ARN of every origin access identity.
const originAccessIdentityARN = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "

// ReadObjectAs reads an object on behalf of an AWS service principal, the
// way CloudFront reads an S3 origin with origin access control: principal
// is the service ("cloudfront.amazonaws.com") and sourceARN the resource
// acting (the distribution's ARN, whose account is aws:SourceAccount). The
// bucket policy decides, as in AWS: it must Allow s3:GetObject to that
// service principal, and conditions on aws:SourceArn / aws:SourceAccount
// are evaluated against sourceARN. An empty principal reads as an
// anonymous caller (a public origin without origin access control). A
// principal that is an origin access identity's ARN
// ("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity <id>")
// reads as that identity, which the policy must name in Principal.AWS.
//
// h carries the request's Range, If-Match, If-None-Match,
// If-Modified-Since, If-Unmodified-Since headers (and a HEAD is asked for
// with method HEAD). The result is what S3 would answer over HTTP with
// success: 200 or 206 with the object (the caller must close the Body).
// Every refusal S3 would answer with an error document (304, 403, 404,
// 412, 416) is returned as the awsproto.APIError S3's handler would write,
// for the caller to render through awsproto (its own envelope or S3's);
// any other error means overcast itself failed.
//
// CloudFront depends on it through an interface of its own, e.g.
//
//	type ObjectReader interface {
//		ReadObjectAs(ctx context.Context, principal, sourceARN, method, bucket, key string, h http.Header) (*http.Response, error)
//	}
func (s *Service) ReadObjectAs(ctx context.Context, principal, sourceARN, method, bucket, key string, h http.Header) (*http.Response, error) {
	switch {
	case principal == "":
		ctx = withRequestID(overcast.WithCaller(ctx, anonymous))
	case strings.HasPrefix(principal, originAccessIdentityARN):
		// A legacy origin access identity is an IAM user of CloudFront's
		// own, which bucket policies name by ARN.
		ctx = withRequestID(overcast.WithCaller(ctx, overcast.Caller{Kind: overcast.PrincipalUser, AccountID: "cloudfront", ARN: principal}))
	default:
		ctx = AsService(ctx, principal, sourceARN)
	}
	reqID := awsproto.RequestID(ctx)
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequestWithContext(ctx, method, "/", nil)
	if err != nil {
		return nil, err
	}
	r.Header = h.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	rec := newResponseRecorder()
	rec.Header().Set("x-amz-request-id", reqID)
	rec.Header().Set("x-amz-id-2", awsproto.HostID(reqID))
	res, err := s.read(ctx, websiteRead(r, bucket, key))
	if err != nil {
		return nil, err
	}
	// Stream the body rather than buffer it: the headers are recorded, the
	// body handed over as it is.
	body := res.body
	res.body = nil
	writeObjectResponse(rec, r, res, http.StatusOK)
	if body == nil || method == http.MethodHead {
		if body != nil {
			body.Close()
		}
		body = io.NopCloser(bytes.NewReader(nil))
	}
	return rec.response(body), nil
}

// AsService makes the S3 calls made with the context it returns act for an
// AWS service principal ("logs.us-east-1.amazonaws.com") on behalf of the
// resource sourceARN, the way CloudWatch Logs writes an export task's
// objects (GetBucketAcl, then PutObject): only an Allow in the bucket
// policy lets it in, with aws:SourceArn and aws:SourceAccount (the ARN's
// account) for the policy's conditions. Services call S3's API methods
// with it through an adapter of internal/app.
func AsService(ctx context.Context, principal, sourceARN string) context.Context {
	account := ""
	if a, ok := overcast.ParseARN(sourceARN); ok {
		account = a.AccountID
	}
	return withRequestID(withServicePrincipal(ctx, principal, sourceARN, account))
}

// withRequestID gives a call from inside overcast the request ID the
// gateway gives the others: S3 reports it in headers and events.
func withRequestID(ctx context.Context) context.Context {
	if awsproto.RequestID(ctx) != "" {
		return ctx
	}
	return awsproto.WithRequestID(ctx, awsproto.NewRequestID())
}

// responseRecorder captures headers and status (and small bodies).
type responseRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newResponseRecorder() *responseRecorder { return &responseRecorder{header: http.Header{}} }

func (r *responseRecorder) Header() http.Header { return r.header }
func (r *responseRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *responseRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

func (r *responseRecorder) response(body io.ReadCloser) *http.Response {
	if body == nil {
		body = io.NopCloser(bytes.NewReader(r.body.Bytes()))
	}
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: r.header, Body: body,
		ContentLength: -1, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}
