package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func FuzzParse(f *testing.F) {
	f.Add(goodAuthz, "", "20150830T123600Z", "")
	f.Add(strings.ReplaceAll(goodAuthz, ", ", ","), "a=1&b=%20&c", "", "Sun, 30 Aug 2015 12:36:00 GMT")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=;;, Signature=", "", "20150830T123600Z", "")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20150830/r/s/aws4_request, SignedHeaders=host;x-amz-date;transfer-encoding;content-length, Signature="+strings.Repeat("0", 64), "", "20150830T123600Z", "")
	f.Add("", presignTarget("60")[len("/b/k?"):], "", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host%3B%3BHOST%3Bx-%C3%BC&X-Amz-Signature="+strings.Repeat("a", 64), "", "")
	f.Add("AWS4-", "X-Amz-Signature=%zz&X-Amz-Algorithm", "99999999T999999Z", "garbage")
	v := &Verifier{Now: fixedClock(time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC))}
	f.Fuzz(func(t *testing.T, authz, rawQuery, amzDate, date string) {
		r := &http.Request{
			Method:     "PUT",
			URL:        &url.URL{Path: "/b/k", RawQuery: rawQuery},
			RequestURI: "/b/k?" + rawQuery,
			Host:       "example.com",
			Header:     http.Header{"X-Custom": {"a  b", " c "}},
		}
		for k, v := range map[string]string{"Authorization": authz, "X-Amz-Date": amzDate, "Date": date} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		a, err := Parse(r)
		if err != nil {
			var e *Error
			if err != ErrNoAuth && (!errors.As(err, &e) || e.Kind != KindIncomplete) {
				t.Fatalf("Parse: got error %#v, want ErrNoAuth or KindIncomplete", err)
			}
			return
		}
		if a.Method != HeaderAuth && a.Method != QueryAuth || a.AccessKeyID == "" || a.Region == "" || a.Service == "" {
			t.Fatalf("Parse accepted an incomplete Auth: %+v", a)
		}
		// Whatever was parsed, Verify and the chunked decoder must cope.
		payload := a.PayloadHash
		if payload == "" {
			payload = emptySHA256
		}
		if err := v.Verify(r, a, "secret", payload); err == nil {
			t.Fatalf("Verify accepted a fuzzed signature: %+v", a)
		}
		if c, err := NewChunkedReader(strings.NewReader("0;chunk-signature="+a.Signature+"\r\n\r\n"), a, "secret", StreamingPayload); err == nil {
			io.Copy(io.Discard, c)
		}
	})
}

var chunkedModes = [...]string{StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer}

func FuzzChunkedReader(f *testing.F) {
	for i, mode := range chunkedModes {
		var algs []string
		if mode != StreamingPayload {
			algs = []string{checksumAlgorithms[i]}
		}
		for _, size := range []int{0, 3, 100} {
			f.Add(encodeChunked(f, randomPayload(size), mode, 64, algs...), uint8(i), "")
		}
	}
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"), uint8(2), "x-amz-checksum-crc32")
	f.Add([]byte("fffffffffffffff\r\n"), uint8(2), "")
	f.Add([]byte("0;chunk-signature=zz\r\n"), uint8(0), "")
	f.Add([]byte("0\n\n"), uint8(2), "x-amz-checksum-sha1, x-amz-checksum-crc64nvme")
	f.Fuzz(func(t *testing.T, body []byte, mode uint8, declared string) {
		m := chunkedModes[int(mode)%len(chunkedModes)]
		r, _ := http.NewRequest("PUT", "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Content-Sha256", m)
		if declared != "" {
			r.Header.Set("X-Amz-Trailer", declared)
		}
		for _, newReader := range []func() (*ChunkedReader, error){
			func() (*ChunkedReader, error) {
				return NewChunkedReader(bytes.NewReader(body), testAuth(), testSecrets["AKIDEXAMPLE"], m)
			},
			func() (*ChunkedReader, error) {
				return NewChunkedRequestReader(r, testAuth(), testSecrets["AKIDEXAMPLE"])
			},
		} {
			c, err := newReader()
			if err != nil {
				continue
			}
			n, err := io.Copy(io.Discard, bufio.NewReaderSize(c, 16))
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("got error %#v, want *Error", err)
				}
				continue
			}
			if n > int64(len(body)) {
				t.Fatalf("decoded %d bytes from a %d-byte body", n, len(body))
			}
		}
	})
}

// stsRequest returns a typical STS GetCallerIdentity request as net/http's
// server hands it to a handler, and its body.
func stsRequest(tb testing.TB) (*http.Request, []byte) {
	tb.Helper()
	body := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	req, err := http.NewRequest("POST", "http://localhost:4566/", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0 os/linux lang/go#1.26 api/sts#1.52.0")
	req.Header.Set("Amz-Sdk-Invocation-Id", "5b4a2c88-c1a8-4c40-9c7e-3b1a8b1e8a9e")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: testSecrets["AKIDEXAMPLE"]}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, HashHex(body), "sts", "us-east-1", signTime); err != nil {
		tb.Fatal(err)
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		tb.Fatal(err)
	}
	server, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		tb.Fatal(err)
	}
	return server, body
}

// BenchmarkVerify is the gateway's per-request cost for header auth: Parse,
// hash the buffered body, Verify.
func BenchmarkVerify(b *testing.B) {
	r, body := stsRequest(b)
	v := &Verifier{Now: fixedClock(signTime), MaxSkew: defaultMaxSkew}
	secret := testSecrets["AKIDEXAMPLE"]
	verify := func() {
		a, err := Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.Verify(r, a, secret, HashHex(body)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			verify()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				verify()
			}
		})
	})
}
