package sigv4

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/google/go-cmp/cmp"
)

const goodAuthz = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"

func TestParse(t *testing.T) {
	date := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	type request struct {
		target string
		header map[string]string
	}
	for _, tt := range []struct {
		name string
		req  request
		want *Auth
		err  error // ErrNoAuth, or *Error compared by Kind and Message
	}{
		{name: "not signed", req: request{target: "/"}, err: ErrNoAuth},
		{name: "bearer token", req: request{target: "/v2/", header: map[string]string{"Authorization": "Bearer abc"}}, err: ErrNoAuth},
		{name: "signature version 2", req: request{target: "/", header: map[string]string{"Authorization": "AWS AKID:c2lnbmF0dXJl"}}, err: ErrNoAuth},
		{name: "query without SigV4 parameters", req: request{target: "/?X-Amz-Date=20150830T123600Z&X-Amz-Foo=1"}, err: ErrNoAuth},
		{
			name: "header auth",
			req: request{target: "/", header: map[string]string{
				"Authorization": goodAuthz, "X-Amz-Date": "20150830T123600Z",
				"X-Amz-Security-Token": "token", "X-Amz-Content-Sha256": UnsignedPayload,
			}},
			want: &Auth{Method: HeaderAuth, AccessKeyID: "AKIDEXAMPLE", Date: date, Region: "us-east-1", Service: "iam",
				SignedHeaders: []string{"content-type", "host", "x-amz-date"}, Signature: "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
				SessionToken: "token", PayloadHash: UnsignedPayload, amzDate: "20150830T123600Z"},
		},
		{
			name: "header auth without spaces, Date header",
			req: request{target: "/", header: map[string]string{
				"Authorization": strings.ReplaceAll(goodAuthz, ", ", ","), "Date": "Sun, 30 Aug 2015 12:36:00 GMT",
			}},
			want: &Auth{Method: HeaderAuth, AccessKeyID: "AKIDEXAMPLE", Date: date, Region: "us-east-1", Service: "iam",
				SignedHeaders: []string{"content-type", "host", "x-amz-date"}, Signature: "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
				amzDate: "20150830T123600Z"},
		},
		{name: "unsupported algorithm", req: request{target: "/", header: map[string]string{"Authorization": strings.Replace(goodAuthz, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1), "X-Amz-Date": "20150830T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "Unsupported Authorization Type: the only supported algorithm is AWS4-HMAC-SHA256."}},
		{name: "no components", req: request{target: "/", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256", "X-Amz-Date": "20150830T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"}},
		{name: "missing signature", req: request{target: "/", header: map[string]string{"Authorization": strings.Split(goodAuthz, ", Signature")[0], "X-Amz-Date": "20150830T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256"}},
		{name: "component without =", req: request{target: "/", header: map[string]string{"Authorization": goodAuthz + ", junk", "X-Amz-Date": "20150830T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "Authorization header requires each component to be of the form key=value. Authorization=AWS4-HMAC-SHA256"}},
		{name: "short credential", req: request{target: "/", header: map[string]string{"Authorization": strings.Replace(goodAuthz, "/us-east-1", "", 1), "X-Amz-Date": "20150830T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."}},
		{name: "bad terminator", req: request{target: "/", header: map[string]string{"Authorization": strings.Replace(goodAuthz, "aws4_request", "aws5_request", 1), "X-Amz-Date": "20150830T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "The authorization header is malformed; incorrect terminal \"aws5_request\". This endpoint uses \"aws4_request\"."}},
		{name: "bad scope date", req: request{target: "/", header: map[string]string{"Authorization": strings.Replace(goodAuthz, "20150830", "2015083x", 1), "X-Amz-Date": "20150830T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."}},
		{name: "scope date is not the request date", req: request{target: "/", header: map[string]string{"Authorization": goodAuthz, "X-Amz-Date": "20150831T000000Z"}},
			err: &Error{Kind: KindIncomplete, Message: "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."}},
		{name: "no date", req: request{target: "/", header: map[string]string{"Authorization": goodAuthz}},
			err: &Error{Kind: KindIncomplete, Message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."}},
		{name: "bad X-Amz-Date", req: request{target: "/", header: map[string]string{"Authorization": goodAuthz, "X-Amz-Date": "2015-08-30T12:36:00Z"}},
			err: &Error{Kind: KindIncomplete, Message: "The authorization header is malformed; X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'."}},
		{name: "impossible X-Amz-Date", req: request{target: "/", header: map[string]string{"Authorization": goodAuthz, "X-Amz-Date": "20150230T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "The authorization header is malformed; X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'."}},
		{name: "header and query auth", req: request{target: "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc", header: map[string]string{"Authorization": goodAuthz, "X-Amz-Date": "20150830T123600Z"}},
			err: &Error{Kind: KindIncomplete, Message: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"}},
		{
			name: "presigned s3",
			req:  request{target: "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Security-Token=a%2Bb&X-Amz-Signature=abcd"},
			want: &Auth{Method: QueryAuth, AccessKeyID: "AKIDEXAMPLE", Date: date, Region: "us-east-1", Service: "s3",
				SignedHeaders: []string{"host"}, Signature: "abcd", SessionToken: "a+b", PayloadHash: UnsignedPayload,
				Expires: 7 * 24 * time.Hour, amzDate: "20150830T123600Z"},
		},
		{
			name: "presigned s3 with content hash",
			req:  request{target: "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Content-Sha256=" + emptySHA256 + "&X-Amz-Signature=abcd"},
			want: &Auth{Method: QueryAuth, AccessKeyID: "AKIDEXAMPLE", Date: date, Region: "us-east-1", Service: "s3",
				SignedHeaders: []string{"host"}, Signature: "abcd", PayloadHash: emptySHA256, Expires: time.Minute, amzDate: "20150830T123600Z"},
		},
		{
			name: "presigned sts without expires",
			req:  request{target: "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=abcd"},
			want: &Auth{Method: QueryAuth, AccessKeyID: "AKIDEXAMPLE", Date: date, Region: "us-east-1", Service: "sts",
				SignedHeaders: []string{"host", "x-k8s-aws-id"}, Signature: "abcd", Expires: 15 * time.Minute, amzDate: "20150830T123600Z"},
		},
		{name: "presigned s3 without expires", req: request{target: "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abcd"},
			err: &Error{Kind: KindIncomplete, Message: msgQueryParams}},
		{name: "presigned without signature", req: request{target: "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=5"},
			err: &Error{Kind: KindIncomplete, Message: msgQueryParams}},
		{name: "presigned without algorithm", req: request{target: "/b/k?X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-Signature=abcd"},
			err: &Error{Kind: KindIncomplete, Message: msgQueryParams}},
		{name: "presigned with another algorithm", req: request{target: "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA512&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=5&X-Amz-Signature=abcd"},
			err: &Error{Kind: KindIncomplete, Message: "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""}},
		{name: "presigned expires too long", req: request{target: presignTarget("604801")}, err: &Error{Kind: KindIncomplete, Message: "X-Amz-Expires must be less than a week (in seconds) that is; 604800"}},
		{name: "presigned expires zero", req: request{target: presignTarget("0")}, err: &Error{Kind: KindIncomplete, Message: "X-Amz-Expires must be at least 1 second"}},
		{name: "presigned expires negative", req: request{target: presignTarget("-1")}, err: &Error{Kind: KindIncomplete, Message: "X-Amz-Expires must be non-negative"}},
		{name: "presigned expires not a number", req: request{target: presignTarget("1h")}, err: &Error{Kind: KindIncomplete, Message: "X-Amz-Expires should be a number"}},
		{name: "presigned bad date", req: request{target: strings.Replace(presignTarget("5"), "20150830T123600Z", "20150830", 1)},
			err: &Error{Kind: KindIncomplete, Message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""}},
		{name: "presigned scope date mismatch", req: request{target: strings.Replace(presignTarget("5"), "20150830T123600Z", "20150829T123600Z", 1)},
			err: &Error{Kind: KindIncomplete, Message: "Error parsing the X-Amz-Credential parameter; Invalid credential date. Date is not the same as X-Amz-Date."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.req.target, nil)
			for k, v := range tt.req.header {
				r.Header.Set(k, v)
			}
			got, err := Parse(r)
			if diff := cmp.Diff(tt.err, err, cmp.Comparer(func(a, b error) bool {
				return a == b || fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
			})); diff != "" {
				t.Fatalf("error mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(Auth{})); diff != "" {
				t.Errorf("Auth mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func presignTarget(expires string) string {
	return "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=" + expires + "&X-Amz-Signature=abcd"
}

// Vectors from the AWS SigV4 test suite, cross-checked with the SDK signer.
func TestSigV4TestSuite(t *testing.T) {
	date := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	for _, tt := range []struct {
		name, target, signedHeaders, signature string
	}{
		{"get-vanilla", "/", "host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "/?Param2=value2&Param1=value1", "host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			authz := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" + tt.signedHeaders + ", Signature=" + tt.signature

			sdkReq := httptest.NewRequest("GET", "http://example.amazonaws.com"+tt.target, nil)
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: secret},
				sdkReq, emptySHA256, "service", "us-east-1", date); err != nil {
				t.Fatal(err)
			}
			if got := sdkReq.Header.Get("Authorization"); got != authz {
				t.Fatalf("the SDK signs %q, the test suite says %q", got, authz)
			}

			r := httptest.NewRequest("GET", "http://example.amazonaws.com"+tt.target, nil)
			r.Header.Set("X-Amz-Date", "20150830T123600Z")
			r.Header.Set("Authorization", authz)
			a, err := Parse(r)
			if err != nil {
				t.Fatal(err)
			}
			v := &Verifier{Now: fixedClock(date), MaxSkew: 15 * time.Minute}
			if err := v.Verify(r, a, secret, emptySHA256); err != nil {
				t.Errorf("got error %v, want none", err)
			}
		})
	}
}

func TestDeriveSigningKey(t *testing.T) {
	// The AWS documentation's key derivation example.
	got := DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", time.Date(2012, 2, 15, 23, 59, 0, 0, time.UTC), "us-east-1", "iam")
	if want := "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"; hex.EncodeToString(got) != want {
		t.Errorf("got key %x, want %s", got, want)
	}
	// Callers get a copy: changing it must not poison the cache.
	got[0] ^= 0xff
	again := DeriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", time.Date(2012, 2, 15, 0, 0, 0, 0, time.UTC), "us-east-1", "iam")
	if want := "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"; hex.EncodeToString(again) != want {
		t.Errorf("after changing a returned key: got key %x, want %s", again, want)
	}
	// The day is the UTC day.
	east := time.FixedZone("UTC+10", 10*3600)
	if a, b := DeriveSigningKey("s", time.Date(2012, 2, 16, 5, 0, 0, 0, east), "r", "x"), DeriveSigningKey("s", time.Date(2012, 2, 15, 0, 0, 0, 0, time.UTC), "r", "x"); !cmp.Equal(a, b) {
		t.Errorf("got different keys for the same UTC day: %x, %x", a, b)
	}
}

func TestKeyCacheIsBoundedAndConcurrent(t *testing.T) {
	c := newKeyCache(8)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				secret := fmt.Sprintf("secret-%d", i%20)
				day := time.Date(2024, 1, 1+i%3, 0, 0, 0, 0, time.UTC)
				got := c.get(secret, day, "us-east-1", "s3")
				if want := deriveSigningKey(secret, dayOf(day), "us-east-1", "s3"); got != want {
					t.Errorf("got key %x for %s, want %x", got, secret, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(c.keys); n > 8 {
		t.Errorf("cache holds %d keys, want at most 8", n)
	}
}

func TestCanonicalQuery(t *testing.T) {
	for _, tt := range []struct {
		raw       string
		presigned bool
		want      string
	}{
		{"", false, ""},
		{"b=2&a=1", false, "a=1&b=2"},
		{"a=2&a=1&a=10&a=", false, "a=&a=1&a=10&a=2"},
		{"a+b=c+d%20e", false, "a%20b=c%20d%20e"},
		{"flag&x=1", false, "flag=&x=1"},
		{"&&x=1&", false, "x=1"},
		{"%zz=1&ok=%2", false, ""},
		{"a;b=1&c=2", false, "c=2"},
		{"X-Amz-Signature=abc&x=1", true, "x=1"},
		{"X-Amz-Signature=abc&x=1", false, "X-Amz-Signature=abc&x=1"},
		// Sorting happens after encoding: '%' sorts before '-'.
		{"a=a-b&a=a/b", false, "a=a%2Fb&a=a-b"},
		{"%C3%BC=%c3%a9&~-._=*'()!", false, "%C3%BC=%C3%A9&~-._=%2A%27%28%29%21"},
		{"k=%2f%7e", false, "k=%2F~"},
	} {
		t.Run(tt.raw, func(t *testing.T) {
			var s scratch
			s.parseQuery(tt.raw, tt.presigned)
			var parts []string
			for _, p := range s.params {
				parts = append(parts, string(s.arena[p.ks:p.ke])+"="+string(s.arena[p.vs:p.ve]))
			}
			if got := strings.Join(parts, "&"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRequestPath(t *testing.T) {
	for _, tt := range []struct {
		requestURI, url, want string
	}{
		{"/a%20b/c%2Fd?x=1", "", "/a%20b/c%2Fd"},
		{"/", "", "/"},
		{"http://host:4566/a/b?c", "", "/a/b"},
		{"http://host", "", "/"},
		{"*", "", "/"},
		{"", "http://h/a%2Fb/%C3%BC", "/a%2Fb/%C3%BC"},
		{"", "http://h", ""},
	} {
		t.Run(tt.requestURI+tt.url, func(t *testing.T) {
			r := &http.Request{RequestURI: tt.requestURI}
			if tt.url != "" {
				r, _ = http.NewRequest("GET", tt.url, nil)
			}
			if got := requestPath(r); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"/":               "/",
		"/a/b":            "/a/b",
		"/a//b/./c/../d/": "/a/b/d/",
		"/a/..":           "/",
		"//":              "/",
		"/../a":           "/a",
		"/.well-known/x":  "/.well-known/x",
		"/a/b/.":          "/a/b",
	} {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q): got %q, want %q", in, got, want)
		}
	}
}

// botocore signs services other than S3 with a normalized path; the Go SDK
// does not. Both must verify for those services, only the literal for S3.
func TestNormalizedPathFallback(t *testing.T) {
	srv := startVerifyServer(t, signTime)
	for _, tt := range []struct {
		service string
		want    string
	}{{"lambda", "OK"}, {"s3", "SignatureMismatch"}} {
		t.Run(tt.service, func(t *testing.T) {
			tc := signedCase{method: "GET", path: "/a/b/c", service: tt.service}
			req := tc.build(t, srv.URL, tc.secret())
			req.URL.Path = "/a//b/./c"
			if got := send(t, req); got.Kind != tt.want {
				t.Errorf("got verdict %+v, want %s", got, tt.want)
			}
		})
	}
}

func TestVerifyEdgeCases(t *testing.T) {
	date := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	v := &Verifier{Now: fixedClock(date), MaxSkew: 15 * time.Minute}
	sig := strings.Repeat("ab", 32)
	for _, tt := range []struct {
		name string
		auth *Auth
		want Kind
	}{
		{"nil auth", nil, KindMissing},
		{"no method", &Auth{Date: date, Signature: sig}, KindIncomplete},
		{"signed header missing from the request", &Auth{Method: HeaderAuth, Date: date, Region: "r", Service: "s", Signature: sig, SignedHeaders: []string{"host", "x-amz-missing"}}, KindSignatureMismatch},
		{"signature not hex", &Auth{Method: HeaderAuth, Date: date, Region: "r", Service: "s", Signature: strings.Repeat("zz", 32), SignedHeaders: []string{"host"}}, KindSignatureMismatch},
		{"signature too short", &Auth{Method: HeaderAuth, Date: date, Region: "r", Service: "s", Signature: "ab", SignedHeaders: []string{"host"}}, KindSignatureMismatch},
		{"no signed headers", &Auth{Method: HeaderAuth, Date: date, Region: "r", Service: "s", Signature: sig}, KindSignatureMismatch},
		{"presigned expired", &Auth{Method: QueryAuth, Date: date.Add(-2 * time.Minute), Expires: time.Minute, Signature: sig}, KindExpired},
		{"presigned in the future", &Auth{Method: QueryAuth, Date: date.Add(16 * time.Minute), Expires: time.Hour, Signature: sig}, KindSkewed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			err := v.Verify(r, tt.auth, "secret", emptySHA256)
			if got := kindOf(err); got != tt.want {
				t.Errorf("got error %v, want kind %v", err, tt.want)
			}
		})
	}
}

// A request built in-process (not read by net/http's server) verifies too:
// Content-Length and Host come from the request's fields.
func TestVerifyClientSideRequest(t *testing.T) {
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	req, _ := http.NewRequest("POST", "https://sts.amazonaws.com/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, HashHex([]byte(body)), "sts", "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	a, err := Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Verifier{Now: fixedClock(signTime)}).Verify(req, a, "secret", HashHex([]byte(body))); err != nil {
		t.Errorf("got error %v, want none", err)
	}
}

func TestChecksums(t *testing.T) {
	for alg, want := range map[string]string{
		"CRC32":     "cbf43926",
		"crc32c":    "e3069283",
		"CRC64NVME": "ae8b14860a799888",
		"SHA1":      "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
		"sha256":    "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
	} {
		h, err := NewChecksum(alg)
		if err != nil {
			t.Fatalf("NewChecksum(%q): %v", alg, err)
		}
		h.Write([]byte("123456789"))
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s(\"123456789\"): got %s, want %s", alg, got, want)
		}
	}
	if _, err := NewChecksum("MD5"); err == nil {
		t.Error("NewChecksum(\"MD5\"): got no error, want one")
	}
}

func TestErrorText(t *testing.T) {
	err := error(&Error{Kind: KindSignatureMismatch, Message: msgSignatureMismatch})
	if got, want := err.Error(), "sigv4: SignatureMismatch: "+msgSignatureMismatch; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var e *Error
	if !errors.As(fmt.Errorf("wrapped: %w", err), &e) || e.Kind != KindSignatureMismatch {
		t.Errorf("errors.As through wrapping: got %v", e)
	}
	if got := Kind(99).String(); got != "Kind(99)" {
		t.Errorf("got %q, want Kind(99)", got)
	}
}
