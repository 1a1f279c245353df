package gateway_test

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/sigv4"
)

// upload is a request whose body claims something about itself.
type upload struct {
	method, path string
	payloadHash  string // x-amz-content-sha256, and what the signature covers
	header       map[string]string
	body         string
}

// send signs u with the key (whose secret overcast may or may not know)
// and returns the status and the error code of the answer ("" for none).
func (u upload) send(t *testing.T, srv *awstest.Server, service string, key aws.Credentials) (int, string) {
	t.Helper()
	req, err := http.NewRequest(u.method, srv.URL+u.path, strings.NewReader(u.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range u.header {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Amz-Content-Sha256", u.payloadHash)
	if err := v4.NewSigner().SignHTTP(context.Background(), key, req, u.payloadHash, service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	e, err := readWireError(resp.StatusCode, resp.Header, b, u.method == http.MethodHead)
	if err != nil {
		t.Fatalf("%s %s: %v", u.method, u.path, err)
	}
	return e.Status, e.Code
}

// awsChunked frames body as aws-chunked: one chunk and the final one, with
// the chunk signature given (none in the unsigned modes), then trailer.
func awsChunked(body, signature, trailer string) string {
	ext := ""
	if signature != "" {
		ext = ";chunk-signature=" + signature
	}
	return fmt.Sprintf("%x%s\r\n%s\r\n0%s\r\n%s\r\n", len(body), ext, body, ext, trailer)
}

func crc32Base64(s string) string {
	sum := crc32.ChecksumIEEE([]byte(s))
	return base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
}

// TestIntegrityWhateverTheKey: what a request says of its body (its
// x-amz-content-sha256, Content-MD5, x-amz-checksum-* and aws-chunked
// trailing checksums) is checked alike whether overcast knows the signing
// key's secret or not. Only aws-chunked chunk signatures need the secret.
func TestIntegrityWhateverTheKey(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Start(t)
	created, err := iam.NewFromConfig(srv.Config()).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("integrity")})
	if err != nil {
		t.Fatal(err)
	}
	k, err := iam.NewFromConfig(srv.Config()).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: created.User.UserName})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]aws.Credentials{
		"unknown key": {AccessKeyID: "test", SecretAccessKey: "test"},
		"known key":   {AccessKeyID: *k.AccessKey.AccessKeyId, SecretAccessKey: *k.AccessKey.SecretAccessKey},
	}
	s3c := s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("integrity")}); err != nil {
		t.Fatal(err)
	}

	const body = "integrity body"
	md5sum := md5.Sum([]byte(body))
	goodMD5 := base64.StdEncoding.EncodeToString(md5sum[:])
	otherHash := sigv4.HashHex([]byte("another body"))
	chunked := func(mode string, trailer string) map[string]string {
		h := map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": fmt.Sprint(len(body))}
		if trailer != "" {
			h["X-Amz-Trailer"] = trailer
		}
		return h
	}
	zeros := strings.Repeat("0", 64)
	tests := []struct {
		name    string
		up      upload
		service string
		want    map[string]string // key -> "status code", "200 " for success
	}{
		{"signed payload hash", upload{method: "PUT", payloadHash: sigv4.HashHex([]byte(body)), body: body}, "s3",
			map[string]string{"unknown key": "200 ", "known key": "200 "}},
		{"wrong payload hash", upload{method: "PUT", payloadHash: otherHash, body: body}, "s3",
			map[string]string{"unknown key": "400 XAmzContentSHA256Mismatch", "known key": "400 XAmzContentSHA256Mismatch"}},
		{"payload hash that is no hash", upload{method: "PUT", payloadHash: "bogus", body: body}, "s3",
			map[string]string{"unknown key": "400 InvalidArgument", "known key": "400 InvalidArgument"}},
		{"wrong payload hash of an empty body", upload{method: "GET", payloadHash: otherHash}, "s3",
			map[string]string{"unknown key": "400 XAmzContentSHA256Mismatch", "known key": "400 XAmzContentSHA256Mismatch"}},
		{"wrong Content-MD5", upload{method: "PUT", payloadHash: sigv4.UnsignedPayload, body: body,
			header: map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(make([]byte, 16))}}, "s3",
			map[string]string{"unknown key": "400 BadDigest", "known key": "400 BadDigest"}},
		{"right Content-MD5", upload{method: "PUT", payloadHash: sigv4.UnsignedPayload, body: body,
			header: map[string]string{"Content-MD5": goodMD5}}, "s3",
			map[string]string{"unknown key": "200 ", "known key": "200 "}},
		{"Content-MD5 that is no digest", upload{method: "PUT", payloadHash: sigv4.UnsignedPayload, body: body,
			header: map[string]string{"Content-MD5": "x"}}, "s3",
			map[string]string{"unknown key": "400 InvalidDigest", "known key": "400 InvalidDigest"}},
		{"wrong x-amz-checksum-crc32", upload{method: "PUT", payloadHash: sigv4.UnsignedPayload, body: body,
			header: map[string]string{"X-Amz-Checksum-Crc32": crc32Base64("other")}}, "s3",
			map[string]string{"unknown key": "400 BadDigest", "known key": "400 BadDigest"}},
		{"wrong trailing checksum", upload{method: "PUT", payloadHash: sigv4.StreamingUnsignedPayloadTrailer,
			header: chunked(sigv4.StreamingUnsignedPayloadTrailer, "x-amz-checksum-crc32"),
			body:   awsChunked(body, "", "x-amz-checksum-crc32:"+crc32Base64("other")+"\r\n")}, "s3",
			map[string]string{"unknown key": "400 BadDigest", "known key": "400 BadDigest"}},
		{"right trailing checksum", upload{method: "PUT", payloadHash: sigv4.StreamingUnsignedPayloadTrailer,
			header: chunked(sigv4.StreamingUnsignedPayloadTrailer, "x-amz-checksum-crc32"),
			body:   awsChunked(body, "", "x-amz-checksum-crc32:"+crc32Base64(body)+"\r\n")}, "s3",
			map[string]string{"unknown key": "200 ", "known key": "200 "}},
		// Without the secret a chunk signature cannot be checked.
		{"forged chunk signatures", upload{method: "PUT", payloadHash: sigv4.StreamingPayload,
			header: chunked(sigv4.StreamingPayload, ""), body: awsChunked(body, zeros, "")}, "s3",
			map[string]string{"unknown key": "200 ", "known key": "403 SignatureDoesNotMatch"}},
		// Bodies that are not uploads carry digests too: a bucket policy, a
		// DeleteObjects list (which SDKs send with a checksum).
		{"wrong Content-MD5, bucket policy", upload{method: "PUT", path: "/integrity?policy", payloadHash: sigv4.UnsignedPayload,
			body: `{"Version":"2012-10-17","Statement":[]}`, header: map[string]string{"Content-MD5": goodMD5}}, "s3",
			map[string]string{"unknown key": "400 BadDigest", "known key": "400 BadDigest"}},
		{"wrong x-amz-checksum-crc32, DeleteObjects", upload{method: "POST", path: "/integrity?delete", payloadHash: sigv4.UnsignedPayload,
			body:   `<Delete><Object><Key>a</Key></Object></Delete>`,
			header: map[string]string{"X-Amz-Checksum-Crc32": crc32Base64("other")}}, "s3",
			map[string]string{"unknown key": "400 BadDigest", "known key": "400 BadDigest"}},
		{"right x-amz-checksum-crc32, DeleteObjects", upload{method: "POST", path: "/integrity?delete", payloadHash: sigv4.UnsignedPayload,
			body:   `<Delete><Object><Key>a</Key></Object></Delete>`,
			header: map[string]string{"X-Amz-Checksum-Crc32": crc32Base64(`<Delete><Object><Key>a</Key></Object></Delete>`)}}, "s3",
			map[string]string{"unknown key": "200 ", "known key": "200 "}},
		// Other APIs read their bodies through the same check.
		{"wrong payload hash, query API", upload{method: "POST", path: "/", payloadHash: otherHash, body: "Action=GetCallerIdentity&Version=2011-06-15",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, "sts",
			map[string]string{"unknown key": "400 XAmzContentSHA256Mismatch", "known key": "400 XAmzContentSHA256Mismatch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			for name, key := range keys {
				up := tt.up
				if up.path == "" {
					up.path = "/integrity/" + strings.ReplaceAll(tt.name+" "+name, " ", "-")
				}
				status, code := up.send(t, srv, tt.service, key)
				got[name] = fmt.Sprint(status, " ", code)
				stored := false
				if up.method == "PUT" {
					_, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("integrity"), Key: aws.String(strings.TrimPrefix(up.path, "/integrity/"))})
					stored = err == nil
				}
				if stored != (status == http.StatusOK && up.method == "PUT") {
					t.Errorf("%s: answered %d, but the object is stored: %v", name, status, stored)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("status and code by key (-want +got):\n%s", diff)
			}
		})
	}
}
