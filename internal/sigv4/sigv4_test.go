package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

var testSecrets = map[string]string{
	"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	"ASIATEMP":    "temporary/secret+key",
}

// signTime is the clock of every SDK-signed test request.
var signTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// verdict is what the test server reports about a request.
type verdict struct {
	Kind         string      // "OK", "NoAuth" or a Kind name
	Message      string      `json:",omitempty"`
	AccessKeyID  string      `json:",omitempty"`
	SessionToken string      `json:",omitempty"`
	Body         string      `json:",omitempty"` // see summarize
	Trailer      http.Header `json:",omitempty"`
}

// summarize keeps long bodies out of the verdict header.
func summarize(body []byte) string {
	if len(body) > 256 {
		return "sha256:" + HashHex(body)
	}
	return string(body)
}

// startVerifyServer runs a real HTTP server whose handler does what the
// gateway will: Parse, look up the secret, hash the body unless the client
// declared a payload hash, Verify. Going through net/http's server is the
// point: it is what moves Host, Content-Length and Transfer-Encoding around.
func startVerifyServer(t testing.TB, now time.Time) *httptest.Server {
	t.Helper()
	v := NewVerifier()
	v.Now = fixedClock(now)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// In a header, not the body: HEAD responses have none.
		b, _ := json.Marshal(check(v, r))
		w.Header().Set("X-Verdict", string(b))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func check(v *Verifier, r *http.Request) verdict {
	a, err := Parse(r)
	if err != nil {
		return errVerdict(err)
	}
	secret, ok := testSecrets[a.AccessKeyID]
	if !ok {
		return verdict{Kind: "UnknownKey"}
	}
	var body []byte
	var trailer http.Header
	payload := a.PayloadHash
	if payload == "" {
		// Nothing declared: buffer the body, its hash is signed.
		if body, err = io.ReadAll(r.Body); err != nil {
			return verdict{Kind: "ReadError", Message: err.Error()}
		}
		payload = HashHex(body)
	}
	if err := v.Verify(r, a, secret, payload); err != nil {
		return errVerdict(err)
	}
	if a.PayloadHash != "" {
		// Declared: stream the body, checking the declared hash if it is one.
		var rd io.Reader = r.Body
		var chunked *ChunkedReader
		switch {
		case strings.HasPrefix(payload, "STREAMING-"):
			if chunked, err = NewChunkedRequestReader(r, a, secret); err != nil {
				return errVerdict(err)
			}
			rd = chunked
		case len(payload) == 64:
			rd = NewHashCheckingReader(rd, payload)
		}
		if body, err = io.ReadAll(rd); err != nil {
			return errVerdict(err)
		}
		if chunked != nil && len(chunked.Trailer()) > 0 {
			trailer = chunked.Trailer()
		}
	}
	return verdict{Kind: "OK", AccessKeyID: a.AccessKeyID, SessionToken: a.SessionToken, Body: summarize(body), Trailer: trailer}
}

func errVerdict(err error) verdict {
	if err == ErrNoAuth {
		return verdict{Kind: "NoAuth"}
	}
	var e *Error
	if !errors.As(err, &e) {
		return verdict{Kind: "NotAnError", Message: err.Error()}
	}
	return verdict{Kind: e.Kind.String(), Message: e.Message}
}

func send(t testing.TB, req *http.Request) verdict {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got verdict
	if err := json.Unmarshal([]byte(resp.Header.Get("X-Verdict")), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// signedCase describes a request for the SDK signer.
type signedCase struct {
	name    string
	method  string
	path    string // escaped form as it goes on the wire
	query   string // raw query
	header  http.Header
	body    string
	service string
	token   string // session token; the access key is then ASIATEMP
	// payload is the x-amz-content-sha256 literal to sign; "" signs the
	// body's hash (and, for s3, sends it as x-amz-content-sha256 too).
	payload string
	// unknownLength hides the body's length: Go then sends it with
	// Transfer-Encoding: chunked and the signer signs no Content-Length.
	unknownLength bool
}

func (c signedCase) credentials(secret string) aws.Credentials {
	if c.token != "" {
		return aws.Credentials{AccessKeyID: "ASIATEMP", SecretAccessKey: secret, SessionToken: c.token}
	}
	return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: secret}
}

func (c signedCase) secret() string {
	if c.token != "" {
		return testSecrets["ASIATEMP"]
	}
	return testSecrets["AKIDEXAMPLE"]
}

// build returns the request signed with secret, as an SDK client would
// send it to base.
func (c signedCase) build(t testing.TB, base, secret string) *http.Request {
	t.Helper()
	u, err := url.Parse(base + c.path)
	if err != nil {
		t.Fatal(err)
	}
	u.RawQuery = c.query
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
		if c.unknownLength {
			body = io.MultiReader(body)
		}
	}
	req, err := http.NewRequest(c.method, u.String(), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range c.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	payload := c.payload
	isS3 := c.service == "s3"
	if payload == "" {
		payload = HashHex([]byte(c.body))
	}
	if isS3 || c.payload != "" {
		req.Header.Set("X-Amz-Content-Sha256", payload)
	}
	err = v4.NewSigner().SignHTTP(context.Background(), c.credentials(secret), req, payload, c.service, "us-east-1", signTime,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = isS3 })
	if err != nil {
		t.Fatal(err)
	}
	return req
}

var signedCases = []signedCase{
	{name: "sts GetCallerIdentity", method: "POST", path: "/", service: "sts",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
		body:   "Action=GetCallerIdentity&Version=2011-06-15"},
	{name: "json protocol", method: "POST", path: "/", service: "ecs",
		header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"AmazonEC2ContainerServiceV20141113.ListClusters"}},
		body:   `{"maxResults":10}`},
	{name: "GET with query", method: "GET", path: "/2015-03-31/functions/", query: "MaxItems=10&Marker=abc", service: "lambda"},
	{name: "query special characters", method: "GET", path: "/", service: "sqs",
		query: "Action=ListQueues&QueueNamePrefix=a%20b%2Bc%2F%7E~&Empty=&Unicode=%C3%BC%E2%9C%93&star=%2A&paren=%28x%29"},
	{name: "query repeated keys", method: "GET", path: "/things", service: "execute-api",
		query: "k=2&k=1&k=10&a=z&A=y&k="},
	{name: "query key without value", method: "GET", path: "/v1", service: "execute-api", query: "flag&x=1"},
	{name: "path with space and unicode", method: "GET", path: "/2015-03-31/functions/my%20fn/%C3%BCber", service: "lambda"},
	{name: "path with escaped slash", method: "GET", path: "/v1/repos/a%2Fb/c", service: "codecommit"},
	{name: "path with reserved characters", method: "DELETE", path: "/2020/tags/arn%3Aaws%3Aecs%3Aus-east-1%3A000000000000%3Acluster%2Fx", service: "ecs"},
	{name: "s3 put object", method: "PUT", path: "/bucket/dir/key.txt", service: "s3",
		header: http.Header{"Content-Type": {"text/plain"}, "X-Amz-Meta-Owner": {"me"}}, body: "hello, world"},
	{name: "s3 key with space unicode and escaped slash", method: "GET", path: "/bucket/a%20b/%C3%BC/c%2Fd%2B%3D", service: "s3", payload: UnsignedPayload},
	{name: "s3 key with tilde and parens", method: "HEAD", path: "/bucket/~user/(1)%21", service: "s3"},
	{name: "s3 list with query", method: "GET", path: "/bucket", service: "s3", query: "list-type=2&prefix=a%2Fb%20c&delimiter=%2F&encoding-type=url"},
	{name: "s3 unsigned payload", method: "PUT", path: "/bucket/obj", service: "s3", body: "streamed body", payload: UnsignedPayload},
	{name: "session token", method: "POST", path: "/", service: "sts", token: "FwoGZXIvYXdzEBYaD+token/with=chars",
		body: "Action=GetCallerIdentity&Version=2011-06-15"},
	{name: "s3 with session token", method: "GET", path: "/bucket/key", service: "s3", token: "IQoJb3JpZ2luX2VjEB0aCXVzLWVhc3QtMSJH"},
	{name: "unusual headers", method: "POST", path: "/", service: "ssm",
		header: http.Header{
			"X-Amz-Target":  {"AmazonSSM.GetParameter"},
			"X-Custom":      {"  lots   of   spaces  ", "second value"},
			"X-Empty":       {""},
			"Content-Type":  {"application/x-amz-json-1.1"},
			"X-Amz-Meta-U":  {"nön äscii välue"},
			"Cache-Control": {"no-cache"},
			"Expect":        {"100-continue"},
		},
		body: `{"Name":"/a/b"}`},
	{name: "empty body POST", method: "POST", path: "/", service: "sts"},
	{name: "s3 transfer-encoding chunked", method: "PUT", path: "/bucket/stream", service: "s3", body: "body of unknown length", payload: UnsignedPayload, unknownLength: true},
	{name: "transfer-encoding chunked", method: "POST", path: "/", service: "logs", body: `{"logGroupName":"g"}`, unknownLength: true,
		header: http.Header{"X-Amz-Target": {"Logs_20140328.CreateLogGroup"}}},
}

func TestSDKSignedRequests(t *testing.T) {
	srv := startVerifyServer(t, signTime.Add(3*time.Minute))
	for _, tc := range signedCases {
		t.Run(tc.name, func(t *testing.T) {
			got := send(t, tc.build(t, srv.URL, tc.secret()))
			want := verdict{Kind: "OK", AccessKeyID: tc.credentials("").AccessKeyID, SessionToken: tc.token, Body: tc.body}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("verdict mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// tampers change a signed request after signing; each must be caught.
var tampers = []struct {
	name  string
	apply func(req *http.Request, tc signedCase) bool // false: not applicable
}{
	{"body", func(req *http.Request, tc signedCase) bool {
		if tc.body == "" || tc.payload == UnsignedPayload {
			return false
		}
		b := []byte(tc.body)
		b[0] ^= 1
		req.Body = io.NopCloser(strings.NewReader(string(b)))
		return true
	}},
	{"signed header", func(req *http.Request, tc signedCase) bool {
		req.Header.Set("X-Amz-Date", signTime.Add(time.Second).Format(amzDateLayout))
		return true
	}},
	{"added query parameter", func(req *http.Request, tc signedCase) bool {
		if req.URL.RawQuery != "" {
			req.URL.RawQuery += "&"
		}
		req.URL.RawQuery += "extra=1"
		return true
	}},
	{"changed query value", func(req *http.Request, tc signedCase) bool {
		if req.URL.RawQuery == "" {
			return false
		}
		q := req.URL.Query()
		for k := range q {
			q.Set(k, q.Get(k)+"x")
			break
		}
		req.URL.RawQuery = q.Encode()
		return true
	}},
	{"path", func(req *http.Request, tc signedCase) bool {
		req.URL.Path += "x"
		if req.URL.RawPath != "" {
			req.URL.RawPath += "x"
		}
		return true
	}},
	{"method", func(req *http.Request, tc signedCase) bool {
		if req.Method == "GET" {
			req.Method = "HEAD"
		} else {
			req.Method = "GET"
		}
		return tc.body == ""
	}},
	{"secret", nil}, // signed with another secret
}

func TestSDKSignedRequestsTampered(t *testing.T) {
	srv := startVerifyServer(t, signTime)
	for _, tc := range signedCases {
		for _, tamper := range tampers {
			t.Run(tc.name+"/"+tamper.name, func(t *testing.T) {
				secret := tc.secret()
				if tamper.apply == nil {
					secret += "-wrong"
				}
				req := tc.build(t, srv.URL, secret)
				if tamper.apply != nil && !tamper.apply(req, tc) {
					t.Skip("not applicable")
				}
				want := "SignatureMismatch"
				if tamper.name == "body" && tc.service == "s3" {
					// The signature covers x-amz-content-sha256, which
					// the body no longer matches.
					want = "ContentSHA256Mismatch"
				}
				got := send(t, req)
				if got.Kind != want {
					t.Errorf("got verdict %+v, want %s", got, want)
				}
				if got.Kind == "SignatureMismatch" && got.Message != msgSignatureMismatch {
					t.Errorf("got message %q, want %q", got.Message, msgSignatureMismatch)
				}
			})
		}
	}
}

// The SDK sends its canonical query encoding, other clients do not: an
// equivalent but differently encoded or ordered query must still verify.
func TestEquivalentQueryEncodings(t *testing.T) {
	srv := startVerifyServer(t, signTime)
	tc := signedCase{method: "GET", path: "/", service: "sqs", query: "b=x%20y&a=%2F%7e&c=%C3%BC"}
	for _, raw := range []string{
		"b=x+y&a=%2F%7e&c=%C3%BC",
		"c=%c3%bc&a=%2f~&b=x%20y",
		"a=/~&b=x+y&c=ü",
		"a=%2F%7E&b=x%20y&c=%C3%BC&",
	} {
		t.Run(raw, func(t *testing.T) {
			req := tc.build(t, srv.URL, tc.secret())
			req.URL.RawQuery = raw
			if got := send(t, req); got.Kind != "OK" {
				t.Errorf("got verdict %+v, want OK", got)
			}
		})
	}
}

func TestHeaderAuthClockSkew(t *testing.T) {
	tc := signedCases[0]
	for _, tt := range []struct {
		name string
		now  time.Time
		want string
	}{
		{"on time", signTime, "OK"},
		{"14 minutes late", signTime.Add(14 * time.Minute), "OK"},
		{"14 minutes early", signTime.Add(-14 * time.Minute), "OK"},
		{"16 minutes late", signTime.Add(16 * time.Minute), "Skewed"},
		{"16 minutes early", signTime.Add(-16 * time.Minute), "Skewed"},
		{"a day late", signTime.Add(24 * time.Hour), "Skewed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startVerifyServer(t, tt.now)
			got := send(t, tc.build(t, srv.URL, tc.secret()))
			if got.Kind != tt.want {
				t.Errorf("got verdict %+v, want %s", got, tt.want)
			}
		})
	}
}

func TestSkewMessage(t *testing.T) {
	v := &Verifier{Now: fixedClock(time.Date(2013, 5, 24, 0, 30, 0, 0, time.UTC)), MaxSkew: 15 * time.Minute}
	a := &Auth{Method: HeaderAuth, Date: time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC), Signature: strings.Repeat("0", 64)}
	err := v.Verify(httptest.NewRequest("GET", "/", nil), a, "secret", emptySHA256)
	want := &Error{Kind: KindSkewed, Message: "Signature expired: 20130524T000000Z is now earlier than 20130524T001500Z (20130524T003000Z - 15 min.)"}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
}

// presign returns the presigned URL and the headers the client must send.
func presign(t testing.TB, base, method, path, query, service, payload, token string, expires time.Duration, header http.Header) (string, http.Header) {
	t.Helper()
	u, err := url.Parse(base + path)
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	if expires > 0 {
		q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(method, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: testSecrets["AKIDEXAMPLE"], SessionToken: token}
	signed, headers, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payload, service, "us-east-1", signTime,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err != nil {
		t.Fatal(err)
	}
	return signed, headers
}

func sendPresigned(t testing.TB, method, signedURL string, headers http.Header) verdict {
	t.Helper()
	req, err := http.NewRequest(method, signedURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range headers {
		if k == "Host" {
			continue
		}
		req.Header[k] = vs
	}
	return send(t, req)
}

func TestPresigned(t *testing.T) {
	for _, tt := range []struct {
		name                string
		method, path, query string
		service, payload    string
		token               string
		expires             time.Duration
		header              http.Header
		now                 time.Time
		want                string
	}{
		{name: "s3 get object", method: "GET", path: "/bucket/a%20b/%C3%BC.txt", service: "s3", payload: UnsignedPayload,
			expires: time.Hour, now: signTime.Add(59 * time.Minute), want: "OK"},
		{name: "s3 put object with signed header", method: "PUT", path: "/bucket/key", service: "s3", payload: UnsignedPayload,
			expires: 10 * time.Minute, header: http.Header{"Content-Type": {"text/plain"}}, now: signTime, want: "OK"},
		{name: "s3 with query", method: "GET", path: "/bucket/key", query: "response-content-disposition=attachment%3B%20filename%3D%22x%20y.txt%22&versionId=3",
			service: "s3", payload: UnsignedPayload, expires: time.Hour, now: signTime, want: "OK"},
		{name: "s3 with session token", method: "GET", path: "/bucket/key", service: "s3", payload: UnsignedPayload,
			token: "FwoGZXIvYXdzE+/=", expires: time.Hour, now: signTime, want: "OK"},
		{name: "s3 expired", method: "GET", path: "/bucket/key", service: "s3", payload: UnsignedPayload,
			expires: time.Hour, now: signTime.Add(time.Hour + time.Second), want: "Expired"},
		{name: "s3 a week", method: "GET", path: "/bucket/key", service: "s3", payload: UnsignedPayload,
			expires: 7 * 24 * time.Hour, now: signTime.Add(6 * 24 * time.Hour), want: "OK"},
		{name: "s3 not yet valid", method: "GET", path: "/bucket/key", service: "s3", payload: UnsignedPayload,
			expires: time.Hour, now: signTime.Add(-16 * time.Minute), want: "Skewed"},
		{name: "s3 slightly early is fine", method: "GET", path: "/bucket/key", service: "s3", payload: UnsignedPayload,
			expires: time.Hour, now: signTime.Add(-5 * time.Minute), want: "OK"},
		{name: "sts presigned without expires", method: "GET", path: "/", query: "Action=GetCallerIdentity&Version=2011-06-15",
			service: "sts", payload: emptySHA256, now: signTime.Add(10 * time.Minute), want: "OK"},
		{name: "sts presigned past default expiry", method: "GET", path: "/", query: "Action=GetCallerIdentity&Version=2011-06-15",
			service: "sts", payload: emptySHA256, now: signTime.Add(16 * time.Minute), want: "Expired"},
		{name: "sts presigned with expires", method: "GET", path: "/", query: "Action=GetCallerIdentity&Version=2011-06-15",
			service: "sts", payload: emptySHA256, expires: 60 * time.Second, header: http.Header{"X-K8s-Aws-Id": {"my-cluster"}},
			now: signTime.Add(30 * time.Second), want: "OK"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startVerifyServer(t, tt.now)
			signed, headers := presign(t, srv.URL, tt.method, tt.path, tt.query, tt.service, tt.payload, tt.token, tt.expires, tt.header)
			if got := sendPresigned(t, tt.method, signed, headers); got.Kind != tt.want {
				t.Fatalf("got verdict %+v, want %s", got, tt.want)
			}
			if tt.want != "OK" {
				return
			}
			// Tampering with the URL must be caught.
			u, _ := url.Parse(signed)
			u.RawQuery += "&extra=1"
			if got := sendPresigned(t, tt.method, u.String(), headers); got.Kind != "SignatureMismatch" {
				t.Errorf("tampered query: got verdict %+v, want SignatureMismatch", got)
			}
			u, _ = url.Parse(signed)
			q := u.Query()
			sig := []byte(q.Get("X-Amz-Signature"))
			sig[0] ^= 1
			q.Set("X-Amz-Signature", string(sig))
			u.RawQuery = q.Encode()
			if got := sendPresigned(t, tt.method, u.String(), headers); got.Kind != "SignatureMismatch" {
				t.Errorf("tampered signature: got verdict %+v, want SignatureMismatch", got)
			}
		})
	}
}
