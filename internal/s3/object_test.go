package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
	"overcast/internal/clock"
	s3svc "overcast/internal/s3"
)

func TestPutGetHeadDelete(t *testing.T) {
	_, c := startWithBucket(t, "objects")
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	put := putObject(t, c, "objects", "dir/hello.txt", "hello, world", func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("text/plain")
		in.ContentEncoding = aws.String("identity")
		in.ContentDisposition = aws.String(`attachment; filename="hello.txt"`)
		in.ContentLanguage = aws.String("en")
		in.CacheControl = aws.String("max-age=60")
		in.Expires = aws.Time(expires)
		in.Metadata = map[string]string{"color": "blue", "Mixed-Case": "Value"}
	})
	sum := md5.Sum([]byte("hello, world"))
	wantETag := fmt.Sprintf(`"%x"`, sum)
	if aws.ToString(put.ETag) != wantETag {
		t.Errorf("PutObject ETag: got %s, want %s", aws.ToString(put.ETag), wantETag)
	}

	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/hello.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	got := map[string]string{
		"body": string(body), "etag": aws.ToString(out.ETag), "type": aws.ToString(out.ContentType),
		"encoding": aws.ToString(out.ContentEncoding), "disposition": aws.ToString(out.ContentDisposition),
		"language": aws.ToString(out.ContentLanguage), "cache": aws.ToString(out.CacheControl),
		"expires": aws.ToTime(out.Expires).UTC().String(), "length": fmt.Sprint(aws.ToInt64(out.ContentLength)),
		"meta": fmt.Sprint(out.Metadata),
	}
	want := map[string]string{
		"body": "hello, world", "etag": wantETag, "type": "text/plain", "encoding": "identity",
		"disposition": `attachment; filename="hello.txt"`, "language": "en", "cache": "max-age=60",
		"expires": expires.String(), "length": "12", "meta": "map[color:blue mixed-case:Value]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetObject (-want +got):\n%s", diff)
	}
	if out.LastModified == nil || time.Since(*out.LastModified) > time.Minute {
		t.Errorf("LastModified: got %v", out.LastModified)
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/hello.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != 12 || aws.ToString(head.ETag) != wantETag || head.Metadata["color"] != "blue" {
		t.Errorf("HeadObject: got length %d, etag %s, meta %v", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), head.Metadata)
	}

	// Overwrite, then delete.
	putObject(t, c, "objects", "dir/hello.txt", "second")
	if got := getObject(t, c, "objects", "dir/hello.txt"); got != "second" {
		t.Errorf("after overwrite: got %q", got)
	}
	awstest.Call(t, c.DeleteObject, &s3.DeleteObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/hello.txt")})
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/hello.txt")})
	wantError(t, "GetObject after delete", err, "NoSuchKey", http.StatusNotFound)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("objects"), Key: aws.String("dir/hello.txt")})
	wantError(t, "HeadObject after delete", err, "", http.StatusNotFound)
	// Deleting what is not there succeeds.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("objects"), Key: aws.String("never")}); err != nil {
		t.Errorf("DeleteObject of a missing key: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
	wantError(t, "GetObject in a missing bucket", err, "NoSuchBucket", http.StatusNotFound)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantError(t, "PutObject in a missing bucket", err, "NoSuchBucket", http.StatusNotFound)
}

// TestMetadataKeysLowerCase: S3 sends user metadata as x-amz-meta-<key>
// with the key in lower case, which clients that read header names as
// received report as the key.
func TestMetadataKeysLowerCase(t *testing.T) {
	srv, c := startWithBucket(t, "meta")
	makePublic(t, c, "meta")
	if _, err := c.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: aws.String("meta"),
		WebsiteConfiguration: &types.WebsiteConfiguration{IndexDocument: &types.IndexDocument{Suffix: aws.String("index.html")}}}); err != nil {
		t.Fatal(err)
	}
	putObject(t, c, "meta", "k", "v", func(in *s3.PutObjectInput) { in.Metadata = map[string]string{"Md": "a", "other-Key": "b"} })
	for _, tc := range []struct{ method, url string }{
		{"GET", srv.URL + "/meta/k"},
		{"HEAD", srv.URL + "/meta/k"},
		{"GET", srv.URL + "/_overcast/s3-website/meta/k"},
	} {
		var meta []string
		for _, name := range rawHeaderNames(t, tc.method, tc.url) {
			if strings.HasPrefix(strings.ToLower(name), "x-amz-meta-") {
				meta = append(meta, name)
			}
		}
		slices.Sort(meta)
		if diff := cmp.Diff([]string{"x-amz-meta-md", "x-amz-meta-other-key"}, meta); diff != "" {
			t.Errorf("%s %s: metadata headers (-want +got):\n%s", tc.method, tc.url, diff)
		}
	}
}

// TestErrorDocument checks the raw error document S3 clients parse.
func TestErrorDocument(t *testing.T) {
	srv, _ := start(t)
	status, h, body := rawRequest(t, "GET", srv.URL+"/no-such-bucket-x/key", nil, nil)
	if status != 404 || !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code>`) ||
		!strings.Contains(body, "<BucketName>no-such-bucket-x</BucketName>") || !strings.Contains(body, "<HostId>") {
		t.Errorf("error document: got %d %s", status, body)
	}
	if h.Get("x-amz-request-id") == "" || h.Get("x-amz-id-2") == "" {
		t.Errorf("error response headers: %v", h)
	}
}

func TestKeys(t *testing.T) {
	srv, c := startWithBucket(t, "keys")
	// Keys that look like paths stay keys: nothing escapes the data dir.
	for _, key := range []string{"../../../etc/passwd", "/etc/passwd", "a/../../b", "..", "./x", "%2e%2e/x", "ünïcödé/ключ", "with space", "a+b", "q?x=1", "hash#frag"} {
		putObject(t, c, "keys", key, "v:"+key)
		if got := getObject(t, c, "keys", key); got != "v:"+key {
			t.Errorf("key %q: got %q", key, got)
		}
	}
	filepath.Walk(filepath.Dir(srv.DataDir), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(p, "passwd") {
			t.Errorf("a key became a file: %s", p)
		}
		return nil
	})
	if _, err := os.Stat("/etc/passwd-overcast"); err == nil {
		t.Errorf("written outside")
	}
	long := strings.Repeat("k", 1025)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("keys"), Key: aws.String(long), Body: strings.NewReader("x")})
	wantError(t, "1,025-byte key", err, "KeyTooLongError", http.StatusBadRequest)
	ok := strings.Repeat("k", 1024)
	putObject(t, c, "keys", ok, "max")
	if got := getObject(t, c, "keys", ok); got != "max" {
		t.Errorf("1,024-byte key: got %q", got)
	}
}

func TestRanges(t *testing.T) {
	_, c := startWithBucket(t, "ranges")
	putObject(t, c, "ranges", "digits", "0123456789")
	tests := []struct {
		rng, body, contentRange string
	}{
		{"bytes=0-3", "0123", "bytes 0-3/10"},
		{"bytes=5-", "56789", "bytes 5-9/10"},
		{"bytes=-3", "789", "bytes 7-9/10"},
		{"bytes=8-100", "89", "bytes 8-9/10"},
		{"bytes=3-1", "0123456789", ""}, // not understood: the whole object
	}
	for _, tt := range tests {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String(tt.rng)})
		if err != nil {
			t.Errorf("%s: %v", tt.rng, err)
			continue
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(b) != tt.body || aws.ToString(out.ContentRange) != tt.contentRange {
			t.Errorf("%s: got %q (%s), want %q (%s)", tt.rng, b, aws.ToString(out.ContentRange), tt.body, tt.contentRange)
		}
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ranges"), Key: aws.String("digits"), Range: aws.String("bytes=10-")})
	wantError(t, "range past the end", err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
}

func TestRangeStatus(t *testing.T) {
	srv, c := startWithBucket(t, "pub")
	putObject(t, c, "pub", "f", "0123456789")
	makePublic(t, c, "pub")
	status, h, body := rawRequest(t, "GET", srv.URL+"/pub/f", nil, http.Header{"Range": {"bytes=2-4"}})
	if status != http.StatusPartialContent || body != "234" || h.Get("Content-Range") != "bytes 2-4/10" {
		t.Errorf("range: got %d %q %v", status, body, h)
	}
	status, h, _ = rawRequest(t, "GET", srv.URL+"/pub/f", nil, http.Header{"Range": {"bytes=20-"}})
	if status != http.StatusRequestedRangeNotSatisfiable || h.Get("Content-Range") != "bytes */10" {
		t.Errorf("unsatisfiable range: got %d %v", status, h)
	}
}

func TestConditionalRequests(t *testing.T) {
	srv, c := startWithBucket(t, "cond")
	put := putObject(t, c, "cond", "k", "data")
	makePublic(t, c, "cond")
	etag := aws.ToString(put.ETag)
	head, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cond"), Key: aws.String("k")})
	mod := head.LastModified.UTC()
	before, after := mod.Add(-time.Hour).Format(http.TimeFormat), mod.Add(time.Hour).Format(http.TimeFormat)
	if mod.Add(time.Hour).After(time.Now()) {
		after = mod.Format(http.TimeFormat) // no future dates: the RFC ignores them
	}
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"If-Match matches", http.Header{"If-Match": {etag}}, 200},
		{"If-Match differs", http.Header{"If-Match": {`"other"`}}, 412},
		{"If-Match star", http.Header{"If-Match": {"*"}}, 200},
		{"If-None-Match matches", http.Header{"If-None-Match": {etag}}, 304},
		{"If-None-Match differs", http.Header{"If-None-Match": {`"other"`}}, 200},
		{"If-Modified-Since before", http.Header{"If-Modified-Since": {before}}, 200},
		{"If-Modified-Since after", http.Header{"If-Modified-Since": {after}}, 304},
		{"If-Unmodified-Since before", http.Header{"If-Unmodified-Since": {before}}, 412},
		{"If-Unmodified-Since after", http.Header{"If-Unmodified-Since": {after}}, 200},
		// RFC 7232 precedence, and the combinations S3 documents.
		{"If-Match true wins over If-Unmodified-Since false", http.Header{"If-Match": {etag}, "If-Unmodified-Since": {before}}, 200},
		{"If-None-Match false wins over If-Modified-Since true", http.Header{"If-None-Match": {etag}, "If-Modified-Since": {before}}, 304},
		{"If-None-Match true ignores If-Modified-Since", http.Header{"If-None-Match": {`"other"`}, "If-Modified-Since": {after}}, 200},
		{"412 before 304", http.Header{"If-Match": {`"other"`}, "If-None-Match": {etag}}, 412},
	}
	for _, tt := range tests {
		status, h, body := rawRequest(t, "GET", srv.URL+"/cond/k", nil, tt.header)
		if status != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, status, tt.want)
		}
		if status == 304 && (body != "" || h.Get("ETag") != etag) {
			t.Errorf("%s: 304 with body %q, ETag %q", tt.name, body, h.Get("ETag"))
		}
	}
	// Through the SDK.
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cond"), Key: aws.String("k"), IfMatch: aws.String(`"nope"`)})
	wantError(t, "SDK If-Match", err, "PreconditionFailed", http.StatusPreconditionFailed)
}

// TestDateConditions: If-Modified-Since and If-Unmodified-Since on GET,
// HEAD and the source of copies, at the second S3 keeps.
func TestDateConditions(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	_, c := startWithBucket(t, "dates", awstest.Clock(clk))
	putObject(t, c, "dates", "k", "data")
	mod := clk.Now().Truncate(time.Second)
	clk.Advance(time.Hour)
	before, after := mod.Add(-time.Minute), mod.Add(time.Minute)
	upload, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("dates"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	type call func(ims, ius *time.Time) error
	calls := map[string]call{
		"GetObject": func(ims, ius *time.Time) error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dates"), Key: aws.String("k"), IfModifiedSince: ims, IfUnmodifiedSince: ius})
			if err == nil {
				out.Body.Close()
			}
			return err
		},
		"HeadObject": func(ims, ius *time.Time) error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dates"), Key: aws.String("k"), IfModifiedSince: ims, IfUnmodifiedSince: ius})
			return err
		},
		"CopyObject": func(ims, ius *time.Time) error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dates"), Key: aws.String("copy"), CopySource: aws.String("dates/k"),
				CopySourceIfModifiedSince: ims, CopySourceIfUnmodifiedSince: ius})
			return err
		},
		"UploadPartCopy": func(ims, ius *time.Time) error {
			_, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("dates"), Key: aws.String("mp"), UploadId: upload.UploadId,
				PartNumber: aws.Int32(1), CopySource: aws.String("dates/k"), CopySourceIfModifiedSince: ims, CopySourceIfUnmodifiedSince: ius})
			return err
		},
	}
	tests := []struct {
		name     string
		ims, ius *time.Time
		read     int // status of GET and HEAD; 0 is success
		copy     int // of the copies
	}{
		{"modified since before", &before, nil, 0, 0},
		{"modified since the second itself", &mod, nil, http.StatusNotModified, http.StatusPreconditionFailed},
		{"modified since after", &after, nil, http.StatusNotModified, http.StatusPreconditionFailed},
		{"unmodified since after", nil, &after, 0, 0},
		{"unmodified since the second itself", nil, &mod, 0, 0},
		{"unmodified since before", nil, &before, http.StatusPreconditionFailed, http.StatusPreconditionFailed},
	}
	for _, tt := range tests {
		for name, call := range calls {
			want := tt.read
			if strings.Contains(name, "Copy") {
				want = tt.copy
			}
			err := call(tt.ims, tt.ius)
			if got := awstest.HTTPStatus(err); (err == nil) != (want == 0) || got != want {
				t.Errorf("%s, %s: got %d (%v), want %d", name, tt.name, got, err, want)
			}
		}
	}
}

func TestConditionalWrites(t *testing.T) {
	_, c := startWithBucket(t, "cwrites")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cwrites"), Key: aws.String("k"), Body: strings.NewReader("1"),
		IfNoneMatch: aws.String("*")}); err != nil {
		t.Fatalf("If-None-Match * on a new key: %v", err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cwrites"), Key: aws.String("k"), Body: strings.NewReader("2"),
		IfNoneMatch: aws.String("*")})
	wantError(t, "If-None-Match * on an existing key", err, "PreconditionFailed", http.StatusPreconditionFailed)
	etag := fmt.Sprintf(`"%x"`, md5.Sum([]byte("1")))
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cwrites"), Key: aws.String("k"), Body: strings.NewReader("3"),
		IfMatch: aws.String(etag)}); err != nil {
		t.Errorf("If-Match with the current ETag: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cwrites"), Key: aws.String("k"), Body: strings.NewReader("4"),
		IfMatch: aws.String(etag)})
	wantError(t, "If-Match with a stale ETag", err, "PreconditionFailed", http.StatusPreconditionFailed)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cwrites"), Key: aws.String("absent"), Body: strings.NewReader("4"),
		IfMatch: aws.String(etag)})
	wantError(t, "If-Match on a missing key", err, "NoSuchKey", http.StatusNotFound)
	if got := getObject(t, c, "cwrites", "k"); got != "3" {
		t.Errorf("after the conditional writes: got %q, want 3", got)
	}
}

func TestIntegrity(t *testing.T) {
	_, c := startWithBucket(t, "integrity")
	body := "checksummed body"
	goodMD5 := md5.Sum([]byte(body))
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("integrity"), Key: aws.String("md5"), Body: strings.NewReader(body),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(goodMD5[:]))}); err != nil {
		t.Errorf("right Content-MD5: %v", err)
	}
	badMD5 := md5.Sum([]byte("other"))
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("integrity"), Key: aws.String("bad"), Body: strings.NewReader(body),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(badMD5[:]))})
	wantError(t, "wrong Content-MD5", err, "BadDigest", http.StatusBadRequest)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("integrity"), Key: aws.String("bad"), Body: strings.NewReader(body),
		ContentMD5: aws.String("not-base64!")})
	wantError(t, "malformed Content-MD5", err, "InvalidDigest", http.StatusBadRequest)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("integrity"), Key: aws.String("bad")})
	wantError(t, "HEAD of a refused upload", err, "", http.StatusNotFound)

	// Each flexible checksum: computed by the SDK (sent in a trailer),
	// verified, stored, returned with checksum mode ENABLED.
	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
		types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
		key := "ck-" + string(alg)
		put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("integrity"), Key: aws.String(key),
			Body: strings.NewReader(body), ChecksumAlgorithm: alg})
		if err != nil {
			t.Errorf("%s: PutObject: %v", alg, err)
			continue
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("integrity"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Errorf("%s: GetObject: %v", alg, err)
			continue
		}
		io.ReadAll(out.Body) // the SDK validates the checksum as it reads
		out.Body.Close()
		got := map[types.ChecksumAlgorithm][2]*string{
			types.ChecksumAlgorithmCrc32: {put.ChecksumCRC32, out.ChecksumCRC32}, types.ChecksumAlgorithmCrc32c: {put.ChecksumCRC32C, out.ChecksumCRC32C},
			types.ChecksumAlgorithmCrc64nvme: {put.ChecksumCRC64NVME, out.ChecksumCRC64NVME}, types.ChecksumAlgorithmSha1: {put.ChecksumSHA1, out.ChecksumSHA1},
			types.ChecksumAlgorithmSha256: {put.ChecksumSHA256, out.ChecksumSHA256},
		}[alg]
		if got[0] == nil || got[1] == nil || *got[0] != *got[1] {
			t.Errorf("%s: checksum on put %v, on get %v", alg, got[0], got[1])
		}
	}
	// A checksum header that does not match the body.
	wrong := make([]byte, 4)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("integrity"), Key: aws.String("wrongcrc"), Body: strings.NewReader(body),
		ChecksumCRC32: aws.String(base64.StdEncoding.EncodeToString(wrong))})
	wantError(t, "wrong x-amz-checksum-crc32", err, "BadDigest", http.StatusBadRequest)
	crc := crc32.ChecksumIEEE([]byte(body))
	right := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("integrity"), Key: aws.String("rightcrc"), Body: strings.NewReader(body),
		ChecksumCRC32: aws.String(right)}); err != nil {
		t.Errorf("right x-amz-checksum-crc32: %v", err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("integrity"), Key: aws.String("malformed"), Body: strings.NewReader(body),
		ChecksumCRC32: aws.String("AAAA")})
	wantError(t, "malformed x-amz-checksum-crc32", err, "InvalidRequest", http.StatusBadRequest)
}

func TestObjectTagging(t *testing.T) {
	_, c := startWithBucket(t, "otags")
	putObject(t, c, "otags", "k", "v", func(in *s3.PutObjectInput) { in.Tagging = aws.String("a=1&b=two%20words") })
	out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range out.TagSet {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if diff := cmp.Diff(map[string]string{"a": "1", "b": "two words"}, tags); diff != "" {
		t.Errorf("tags from x-amz-tagging (-want +got):\n%s", diff)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("otags"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	get.Body.Close()
	if aws.ToInt32(get.TagCount) != 2 {
		t.Errorf("TagCount: got %d, want 2", aws.ToInt32(get.TagCount))
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("only"), Value: aws.String("one")}}}}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k")})
	if len(out.TagSet) != 1 || aws.ToString(out.TagSet[0].Key) != "only" {
		t.Errorf("after PutObjectTagging: %+v", out.TagSet)
	}
	awstest.Call(t, c.DeleteObjectTagging, &s3.DeleteObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k")})
	out, _ = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k")})
	if len(out.TagSet) != 0 {
		t.Errorf("after DeleteObjectTagging: %+v", out.TagSet)
	}
	var many []types.Tag
	for i := range 11 {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprint(i)), Value: aws.String("v")})
	}
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("k"), Tagging: &types.Tagging{TagSet: many}})
	wantError(t, "11 tags", err, "InvalidTag", http.StatusBadRequest)
	_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("otags"), Key: aws.String("missing")})
	wantError(t, "tags of a missing key", err, "NoSuchKey", http.StatusNotFound)
}

func TestCopyObject(t *testing.T) {
	_, c := startWithBucket(t, "src")
	createBucket(t, c, "dst")
	put := putObject(t, c, "src", "orig", "copy me", func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("text/x-original")
		in.Metadata = map[string]string{"k": "orig"}
	})
	big := strings.Repeat("large object bytes ", 20_000) // stored in a blob, copied by link
	putObject(t, c, "src", "big", big)

	out, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), CopySource: aws.String("src/orig")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CopyObjectResult.ETag) != aws.ToString(put.ETag) {
		t.Errorf("copy ETag: got %s, want %s", aws.ToString(out.CopyObjectResult.ETag), aws.ToString(put.ETag))
	}
	head, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	if aws.ToString(head.ContentType) != "text/x-original" || head.Metadata["k"] != "orig" {
		t.Errorf("COPY directive: got type %s, meta %v", aws.ToString(head.ContentType), head.Metadata)
	}
	awstest.Call(t, c.CopyObject, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced"), CopySource: aws.String("/src/orig"),
		MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("text/new"), Metadata: map[string]string{"k": "new"}})
	head, _ = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("replaced")})
	if aws.ToString(head.ContentType) != "text/new" || head.Metadata["k"] != "new" {
		t.Errorf("REPLACE directive: got type %s, meta %v", aws.ToString(head.ContentType), head.Metadata)
	}
	if got := getObject(t, c, "dst", "replaced"); got != "copy me" {
		t.Errorf("copied body: %q", got)
	}
	awstest.Call(t, c.CopyObject, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("big"), CopySource: aws.String("src/big")})
	// The copy is independent of its source.
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("src"), Key: aws.String("big")})
	if got := getObject(t, c, "dst", "big"); got != big {
		t.Errorf("big copy after deleting the source: %d bytes, want %d", len(got), len(big))
	}

	// Conditional copies.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("c1"), CopySource: aws.String("src/orig"),
		CopySourceIfMatch: aws.String(`"nope"`)})
	wantError(t, "copy-source-if-match", err, "PreconditionFailed", http.StatusPreconditionFailed)
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("c2"), CopySource: aws.String("src/orig"),
		CopySourceIfNoneMatch: put.ETag})
	wantError(t, "copy-source-if-none-match", err, "PreconditionFailed", http.StatusPreconditionFailed)
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("c3"), CopySource: aws.String("src/orig"),
		CopySourceIfMatch: put.ETag, CopySourceIfUnmodifiedSince: aws.Time(time.Now().Add(-time.Hour))}); err != nil {
		t.Errorf("if-match true with if-unmodified-since false copies: %v", err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("c4"), CopySource: aws.String("src/missing")})
	wantError(t, "missing source", err, "NoSuchKey", http.StatusNotFound)
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("orig"), CopySource: aws.String("src/orig")})
	wantError(t, "copy onto itself", err, "InvalidRequest", http.StatusBadRequest)
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("src"), Key: aws.String("orig"), CopySource: aws.String("src/orig"),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"k": "self"}}); err != nil {
		t.Errorf("copy onto itself with REPLACE: %v", err)
	}
}

func TestStorageClasses(t *testing.T) {
	_, c := startWithBucket(t, "classes")
	putObject(t, c, "classes", "cold", "x", func(in *s3.PutObjectInput) { in.StorageClass = types.StorageClassGlacier })

	invalid := awstest.APIError{Code: "InvalidStorageClass", Status: http.StatusBadRequest, Message: "The storage class you specified is not valid"}
	for _, class := range []types.StorageClass{"FOO", "standard", types.StorageClassExpressOnezone, types.StorageClassOutposts} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("classes"), Key: aws.String("k"), Body: strings.NewReader("x"), StorageClass: class})
		awstest.WantAPIError(t, err, invalid)
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("classes"), Key: aws.String("k"), CopySource: aws.String("classes/cold"), StorageClass: class})
		awstest.WantAPIError(t, err, invalid)
		_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("classes"), Key: aws.String("k"), StorageClass: class})
		awstest.WantAPIError(t, err, invalid)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("classes"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ServerSideEncryption: "AES512"})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidArgument", Status: http.StatusBadRequest, Message: "The encryption method specified is not supported"})

	// A copy is STANDARD unless the request asks for a class: the
	// source's does not carry over.
	tests := []struct {
		name  string
		class types.StorageClass
		want  types.StorageClass
	}{
		{"no class", "", types.StorageClassStandard},
		{"STANDARD_IA", types.StorageClassStandardIa, types.StorageClassStandardIa},
		{"GLACIER", types.StorageClassGlacier, types.StorageClassGlacier},
	}
	for _, tt := range tests {
		key := "copy-" + tt.name
		if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("classes"), Key: aws.String(key),
			CopySource: aws.String("classes/cold"), StorageClass: tt.class}); err != nil {
			t.Fatalf("%s: CopyObject: %v", tt.name, err)
		}
		list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("classes"), Prefix: aws.String(key)})
		if err != nil || len(list.Contents) != 1 {
			t.Fatalf("%s: ListObjectsV2: got %v, %v", tt.name, list, err)
		}
		if got := list.Contents[0].StorageClass; got != types.ObjectStorageClass(tt.want) {
			t.Errorf("%s: copy's storage class: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestDeleteObjects(t *testing.T) {
	_, c := startWithBucket(t, "multi")
	for _, k := range []string{"a", "b", "c"} {
		putObject(t, c, "multi", k, k)
	}
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b")}, {Key: aws.String("nope")}}}})
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	if diff := cmp.Diff([]string{"a", "b", "nope"}, deleted); diff != "" || len(out.Errors) != 0 {
		t.Errorf("deleted (-want +got):\n%s errors %v", diff, out.Errors)
	}
	quiet, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("multi"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("c")}}, Quiet: aws.Bool(true)}})
	if err != nil || len(quiet.Deleted) != 0 {
		t.Errorf("quiet: got %v, %v", quiet.Deleted, err)
	}
	list, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("multi")})
	if len(list.Contents) != 0 {
		t.Errorf("left: %d objects", len(list.Contents))
	}
}

func TestMalformedXML(t *testing.T) {
	srv, _ := startWithBucket(t, "xml")
	// Signed with a key overcast does not know, which it accepts unverified
	// outside --strict: the body is what is under test.
	now := time.Now().UTC()
	status, _, body := rawRequest(t, "PUT", srv.URL+"/xml?tagging", []byte("<Tagging><TagSet><Tag>"), http.Header{
		"Authorization": {"AWS4-HMAC-SHA256 Credential=test/" + now.Format("20060102") + "/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"},
		"X-Amz-Date":    {now.Format("20060102T150405Z")}, "X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>MalformedXML</Code>") {
		t.Errorf("bad XML: got %d %s", status, body)
	}
	// Well-formed, but not what S3's schema allows: a Delete needs an Object.
	empty := []byte(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Delete>`)
	sum := md5.Sum(empty)
	status, _, body = rawRequest(t, "POST", srv.URL+"/xml?delete", empty, http.Header{
		"Authorization": {"AWS4-HMAC-SHA256 Credential=test/" + now.Format("20060102") + "/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"},
		"X-Amz-Date":    {now.Format("20060102T150405Z")}, "X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"},
		"Content-MD5": {base64.StdEncoding.EncodeToString(sum[:])}})
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>MalformedXML</Code>") {
		t.Errorf("DeleteObjects with no Object: got %d %s", status, body)
	}
}

func TestGetObjectAttributes(t *testing.T) {
	_, c := startWithBucket(t, "attrs")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("attrs"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	small := putObject(t, c, "attrs", "small", "hello", func(in *s3.PutObjectInput) {
		in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256
		in.StorageClass = types.StorageClassStandardIa
	})
	id := createUpload(t, c, "attrs", "big")
	parts := []types.CompletedPart{
		{PartNumber: aws.Int32(1), ETag: aws.String(uploadPart(t, c, "attrs", "big", id, 1, randomBytes(5<<20, 1)))},
		{PartNumber: aws.Int32(2), ETag: aws.String(uploadPart(t, c, "attrs", "big", id, 2, randomBytes(5<<20, 2)))},
		{PartNumber: aws.Int32(3), ETag: aws.String(uploadPart(t, c, "attrs", "big", id, 3, randomBytes(10, 3)))},
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("attrs"), Key: aws.String("big"),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatal(err)
	}

	every := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts,
		types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}
	type attrs struct {
		ETag, VersionID, StorageClass, SHA256, ChecksumType string
		Size                                                int64
		Parts                                               []int32
		TotalParts                                          int32
		Truncated                                           bool
	}
	get := func(key string, asked []types.ObjectAttributes, maxParts *int32, marker *string) attrs {
		t.Helper()
		out, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String(key),
			ObjectAttributes: asked, MaxParts: maxParts, PartNumberMarker: marker})
		if err != nil {
			t.Fatalf("GetObjectAttributes(%s): %v", key, err)
		}
		a := attrs{ETag: aws.ToString(out.ETag), VersionID: aws.ToString(out.VersionId), StorageClass: string(out.StorageClass),
			Size: aws.ToInt64(out.ObjectSize)}
		if out.Checksum != nil {
			a.SHA256, a.ChecksumType = aws.ToString(out.Checksum.ChecksumSHA256), string(out.Checksum.ChecksumType)
		}
		if p := out.ObjectParts; p != nil {
			a.TotalParts, a.Truncated = aws.ToInt32(p.TotalPartsCount), aws.ToBool(p.IsTruncated)
			for _, part := range p.Parts {
				a.Parts = append(a.Parts, aws.ToInt32(part.PartNumber))
			}
		}
		return a
	}
	unquoted := func(etag *string) string { return strings.Trim(aws.ToString(etag), `"`) }
	tests := []struct {
		name     string
		key      string
		asked    []types.ObjectAttributes
		maxParts *int32
		marker   *string
		want     attrs
	}{
		{"every attribute of a simple object", "small", every, nil, nil, attrs{ETag: unquoted(small.ETag), VersionID: aws.ToString(small.VersionId),
			StorageClass: "STANDARD_IA", SHA256: aws.ToString(small.ChecksumSHA256), ChecksumType: "FULL_OBJECT", Size: 5}},
		{"only the size", "small", []types.ObjectAttributes{types.ObjectAttributesObjectSize}, nil, nil,
			attrs{VersionID: aws.ToString(small.VersionId), Size: 5}},
		{"a multipart object's parts", "big", []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectParts,
			types.ObjectAttributesStorageClass}, nil, nil, attrs{ETag: unquoted(done.ETag), VersionID: aws.ToString(done.VersionId),
			StorageClass: "STANDARD", Parts: []int32{1, 2, 3}, TotalParts: 3}},
		{"a page of parts", "big", []types.ObjectAttributes{types.ObjectAttributesObjectParts}, aws.Int32(2), nil,
			attrs{VersionID: aws.ToString(done.VersionId), Parts: []int32{1, 2}, TotalParts: 3, Truncated: true}},
		{"the next page", "big", []types.ObjectAttributes{types.ObjectAttributesObjectParts}, aws.Int32(2), aws.String("2"),
			attrs{VersionID: aws.ToString(done.VersionId), Parts: []int32{3}, TotalParts: 3}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, get(tt.key, tt.asked, tt.maxParts, tt.marker)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}

	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("small"),
		ObjectAttributes: []types.ObjectAttributes{"Color"}})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "InvalidArgument", Status: http.StatusBadRequest, Message: "Invalid attribute name specified."})
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("missing"), ObjectAttributes: every})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "NoSuchKey", Status: http.StatusNotFound})
	// Behind a delete marker the key is gone; its versions are still there.
	awstest.Call(t, c.DeleteObject, &s3.DeleteObjectInput{Bucket: aws.String("attrs"), Key: aws.String("small")})
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("small"), ObjectAttributes: every})
	awstest.WantAPIError(t, err, awstest.APIError{Code: "NoSuchKey", Status: http.StatusNotFound})
	old, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("small"),
		VersionId: small.VersionId, ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectSize}})
	if err != nil || aws.ToInt64(old.ObjectSize) != 5 {
		t.Errorf("GetObjectAttributes of the version under the delete marker: got %v, %v", old, err)
	}
}

// postForm sends a browser-style multipart POST upload.
func postForm(t *testing.T, url string, fields map[string]string, file string) (int, http.Header, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "upload.txt")
	io.WriteString(fw, file)
	mw.Close()
	return rawRequest(t, "POST", url, body.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// TestPostObject: the SDK's presigned POST, as an HTML form would send it.
func TestPostObject(t *testing.T) {
	srv, c := startWithBucket(t, "forms")
	log := subscribe(t, srv.Main.Bus(), "post")
	signer := newClient(srv, signedBy(userKey(t, srv, "poster")))
	post, err := s3.NewPresignClient(signer).PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("forms"), Key: aws.String("uploads/${filename}")},
		func(o *s3.PresignPostOptions) {
			o.Expires = time.Minute
			o.Conditions = []any{[]any{"starts-with", "$key", "uploads/"}, []any{"content-length-range", 1, 100}}
		})
	if err != nil {
		t.Fatal(err)
	}
	fields := post.Values
	fields["success_action_status"] = "201"
	fields["Content-Type"] = "text/plain"
	status, h, body := postForm(t, post.URL, fields, "from a form")
	if status != 201 || !strings.Contains(body, "<Key>uploads/upload.txt</Key>") || h.Get("ETag") == "" {
		t.Fatalf("POST upload: got %d %s", status, body)
	}
	if got := getObject(t, c, "forms", "uploads/upload.txt"); got != "from a form" {
		t.Errorf("uploaded object: %q", got)
	}
	evs := log.wait(t, 1)
	var d s3svc.EventDetail
	json.Unmarshal(evs[0].Detail, &d)
	if evs[0].Type != "ObjectCreated:Post" || d.Records[0].EventName != "ObjectCreated:Post" {
		t.Errorf("event: %s", evs[0].Type)
	}

	// The policy's conditions hold.
	tooBig := strings.Repeat("x", 101)
	if status, _, body := postForm(t, post.URL, post.Values, tooBig); status != 400 || !strings.Contains(body, "EntityTooLarge") {
		t.Errorf("over content-length-range: got %d %s", status, body)
	}
	bad := map[string]string{}
	for k, v := range post.Values {
		bad[k] = v
	}
	bad["key"] = "elsewhere/x"
	if status, _, body := postForm(t, post.URL, bad, "x"); status != 403 || !strings.Contains(body, "AccessDenied") {
		t.Errorf("key outside starts-with: got %d %s", status, body)
	}
	bad["key"] = post.Values["key"]
	for k := range bad {
		if strings.EqualFold(k, "x-amz-signature") {
			bad[k] = strings.Repeat("0", 64)
		}
	}
	if status, _, body := postForm(t, post.URL, bad, "x"); status != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("bad signature: got %d %s", status, body)
	}
	// Without a policy the upload is anonymous: refused by default.
	if status, _, _ := postForm(t, srv.URL+"/forms", map[string]string{"key": "anon"}, "x"); status != 403 {
		t.Errorf("anonymous POST: got %d, want 403", status)
	}
}
