package s3_test

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"overcast/internal/awstest"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// createUpload starts a multipart upload and returns its ID.
func createUpload(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out := awstest.Call(t, c.CreateMultipartUpload, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return aws.ToString(out.UploadId)
}

func uploadPart(t *testing.T, c *s3.Client, bucket, key, id string, n int32, data []byte) string {
	t.Helper()
	out := awstest.Call(t, c.UploadPart, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		PartNumber: aws.Int32(n), Body: bytes.NewReader(data)})
	return aws.ToString(out.ETag)
}

func TestMultipartUpload(t *testing.T) {
	_, c := startWithBucket(t, "mpu")
	create, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"),
		ContentType: aws.String("application/x-big"), Metadata: map[string]string{"m": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(create.UploadId)
	p1, p2, p3 := randomBytes(5<<20, 1), randomBytes(5<<20, 2), randomBytes(1234, 3)
	e1 := uploadPart(t, c, "mpu", "big", id, 1, p1)
	e3 := uploadPart(t, c, "mpu", "big", id, 3, p3)
	uploadPart(t, c, "mpu", "big", id, 2, randomBytes(5<<20, 99)) // replaced next
	e2 := uploadPart(t, c, "mpu", "big", id, 2, p2)

	parts, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range parts.Parts {
		got = append(got, fmt.Sprintf("%d:%d:%s", aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size), aws.ToString(p.ETag)))
	}
	want := []string{fmt.Sprintf("1:%d:%s", 5<<20, e1), fmt.Sprintf("2:%d:%s", 5<<20, e2), fmt.Sprintf("3:1234:%s", e3)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListParts (-want +got):\n%s", diff)
	}
	page, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String(id), MaxParts: aws.Int32(2)})
	if err != nil || len(page.Parts) != 2 || !aws.ToBool(page.IsTruncated) || aws.ToString(page.NextPartNumberMarker) != "2" {
		t.Errorf("ListParts page: %d parts, truncated %v, next %v, %v", len(page.Parts), page.IsTruncated, page.NextPartNumberMarker, err)
	}

	uploads, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(uploads.Uploads) != 1 || aws.ToString(uploads.Uploads[0].UploadId) != id {
		t.Errorf("ListMultipartUploads: %+v, %v", uploads, err)
	}

	// Bad completions.
	complete := func(parts ...types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"),
			UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		return err
	}
	part := func(n int32, etag string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)}
	}
	wantError(t, "parts out of order", complete(part(2, e2), part(1, e1)), "InvalidPartOrder", http.StatusBadRequest)
	wantError(t, "wrong ETag", complete(part(1, e1), part(2, `"0000"`)), "InvalidPart", http.StatusBadRequest)
	wantError(t, "missing part", complete(part(1, e1), part(4, e1)), "InvalidPart", http.StatusBadRequest)
	wantError(t, "small non-last part", complete(part(1, e1), part(3, e3), part(2, e2)), "InvalidPartOrder", http.StatusBadRequest)

	// Part 3 (1,234 bytes) may only be last.
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{part(1, e1), part(2, e2), part(3, e3)}}})
	if err != nil {
		t.Fatal(err)
	}
	// "md5-of-md5s-N"
	h := md5.New()
	for _, p := range [][]byte{p1, p2, p3} {
		s := md5.Sum(p)
		h.Write(s[:])
	}
	wantETag := fmt.Sprintf(`"%x-3"`, h.Sum(nil))
	if aws.ToString(out.ETag) != wantETag {
		t.Errorf("ETag: got %s, want %s", aws.ToString(out.ETag), wantETag)
	}
	whole := append(append(append([]byte(nil), p1...), p2...), p3...)
	if got := getObject(t, c, "mpu", "big"); got != string(whole) {
		t.Errorf("completed object differs (%d bytes, want %d)", len(got), len(whole))
	}
	// A range across the part boundary.
	rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", 5<<20-10, 5<<20+9))})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rng.Body)
	rng.Body.Close()
	if !bytes.Equal(b, whole[5<<20-10:5<<20+10]) {
		t.Errorf("range across parts differs")
	}
	head, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"), PartNumber: aws.Int32(3)})
	if aws.ToInt32(head.PartsCount) != 3 || aws.ToInt64(head.ContentLength) != 1234 || aws.ToString(head.ContentType) != "application/x-big" {
		t.Errorf("HeadObject partNumber=3: parts %d, length %d, type %s", aws.ToInt32(head.PartsCount), aws.ToInt64(head.ContentLength), aws.ToString(head.ContentType))
	}

	wantError(t, "complete again", complete(part(1, e1)), "NoSuchUpload", http.StatusNotFound)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String(id),
		PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	wantError(t, "upload to a completed upload", err, "NoSuchUpload", http.StatusNotFound)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String("nope"),
		PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	wantError(t, "unknown upload", err, "NoSuchUpload", http.StatusNotFound)
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("big"), UploadId: aws.String("nope")})
	wantError(t, "abort unknown upload", err, "NoSuchUpload", http.StatusNotFound)
}

func TestMultipartEntityTooSmall(t *testing.T) {
	_, c := startWithBucket(t, "small")
	id := createUpload(t, c, "small", "k")
	e1 := uploadPart(t, c, "small", "k", id, 1, []byte("tiny"))
	e2 := uploadPart(t, c, "small", "k", id, 2, []byte("tiny"))
	_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("small"), Key: aws.String("k"), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(e1)}, {PartNumber: aws.Int32(2), ETag: aws.String(e2)}}}})
	wantError(t, "4-byte first part", err, "EntityTooSmall", http.StatusBadRequest)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("small"), Key: aws.String("k"), UploadId: aws.String(id),
		PartNumber: aws.Int32(10001), Body: strings.NewReader("x")})
	wantError(t, "part 10001", err, "InvalidArgument", http.StatusBadRequest)
}

// TestMultipartAbortRemovesData: aborting deletes the parts' bytes.
func TestMultipartAbortRemovesData(t *testing.T) {
	srv, c := startWithBucket(t, "abort")
	id := createUpload(t, c, "abort", "k")
	uploadPart(t, c, "abort", "k", id, 1, randomBytes(1<<20, 5))
	uploadPart(t, c, "abort", "k", id, 2, randomBytes(1<<20, 6))
	if n := countBlobs(t, srv); n != 2 {
		t.Fatalf("got %d blobs with two parts uploaded, want 2", n)
	}
	awstest.Call(t, c.AbortMultipartUpload, &s3.AbortMultipartUploadInput{Bucket: aws.String("abort"), Key: aws.String("k"), UploadId: aws.String(id)})
	if n := countBlobs(t, srv); n != 0 {
		t.Errorf("got %d blobs after abort, want 0", n)
	}
	uploads, _ := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("abort")})
	if len(uploads.Uploads) != 0 {
		t.Errorf("aborted upload still listed")
	}
}

// countBlobs counts the object files in the server's blob directory.
func countBlobs(t *testing.T, srv *awstest.Server) int {
	t.Helper()
	n := 0
	filepath.Walk(filepath.Join(srv.DataDir, "blobs", "data"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestUploadPartCopy(t *testing.T) {
	_, c := startWithBucket(t, "upc")
	src := randomBytes(6<<20, 7)
	putObject(t, c, "upc", "src", string(src))
	id := createUpload(t, c, "upc", "dst")
	cp1, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(1), CopySource: aws.String("upc/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", 5<<20-1))})
	if err != nil {
		t.Fatal(err)
	}
	cp2, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(2), CopySource: aws.String("upc/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", 5<<20, 6<<20-1))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(3), CopySource: aws.String("upc/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", 7<<20))})
	wantError(t, "range past the source", err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
	awstest.Call(t, c.CompleteMultipartUpload, &s3.CompleteMultipartUploadInput{Bucket: aws.String("upc"), Key: aws.String("dst"), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: cp1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: cp2.CopyPartResult.ETag}}}})
	if got := getObject(t, c, "upc", "dst"); got != string(src) {
		t.Errorf("copied upload differs")
	}
}

// TestUploadManager: the SDK's transfer manager, multipart with
// concurrent parts and checksums, and its downloader with ranged GETs.
func TestUploadManager(t *testing.T) {
	_, c := startWithBucket(t, "manager")
	data := randomBytes(23<<20+17, 11)
	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 5 << 20; u.Concurrency = 4 })
	res, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("manager"), Key: aws.String("managed"), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(res.ETag), `-5"`) {
		t.Errorf("ETag %s: want a 5-part ETag", aws.ToString(res.ETag))
	}
	down := manager.NewDownloader(c, func(d *manager.Downloader) { d.PartSize = 4 << 20; d.Concurrency = 3 })
	buf := manager.NewWriteAtBuffer(nil)
	n, err := down.Download(ctx, buf, &s3.GetObjectInput{Bucket: aws.String("manager"), Key: aws.String("managed")})
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("downloaded %d bytes, different from the %d uploaded", n, len(data))
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("manager"), Key: aws.String("managed"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if head.ChecksumType == "" {
		t.Errorf("no checksum on a managed upload")
	}
}

func TestUnknownUpload(t *testing.T) {
	_, c := startWithBucket(t, "uploads")
	putObject(t, c, "uploads", "src", "x")
	bucket, key, id := aws.String("uploads"), aws.String("k"), aws.String("no-such-upload")
	calls := map[string]func() error{
		"UploadPart": func() error {
			_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
			return err
		},
		"UploadPartCopy": func() error {
			_, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: bucket, Key: key, UploadId: id, PartNumber: aws.Int32(1), CopySource: aws.String("uploads/src")})
			return err
		},
		"ListParts": func() error {
			_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: id})
			return err
		},
		"CompleteMultipartUpload": func() error {
			_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"x"`)}}}})
			return err
		},
		"AbortMultipartUpload": func() error {
			_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id})
			return err
		},
	}
	for name, call := range calls {
		if !awstest.WantAPIError(t, call(), awstest.APIError{Code: "NoSuchUpload", Status: http.StatusNotFound}) {
			t.Logf("(%s)", name)
		}
	}
}

func TestListPartsPages(t *testing.T) {
	_, c := startWithBucket(t, "parts")
	bucket, key := aws.String("parts"), aws.String("k")
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for n := int32(1); n <= 5; n++ {
		awstest.Call(t, c.UploadPart, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: strings.NewReader("part")})
	}
	type page struct {
		Parts     []int32
		Truncated bool
		Next      int32
		MaxParts  int32
	}
	list := func(max *int32, marker *string) page {
		t.Helper()
		out, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: bucket, Key: key, UploadId: up.UploadId, MaxParts: max, PartNumberMarker: marker})
		if err != nil {
			t.Fatalf("ListParts(max %v, marker %v): %v", max, marker, err)
		}
		next, _ := strconv.Atoi(aws.ToString(out.NextPartNumberMarker))
		p := page{Truncated: aws.ToBool(out.IsTruncated), Next: int32(next), MaxParts: aws.ToInt32(out.MaxParts)}
		for _, part := range out.Parts {
			p.Parts = append(p.Parts, aws.ToInt32(part.PartNumber))
		}
		return p
	}
	tests := []struct {
		name   string
		max    *int32
		marker *string
		want   page
	}{
		{"first page", aws.Int32(2), nil, page{Parts: []int32{1, 2}, Truncated: true, Next: 2, MaxParts: 2}},
		{"next page", aws.Int32(2), aws.String("2"), page{Parts: []int32{3, 4}, Truncated: true, Next: 4, MaxParts: 2}},
		{"last page", aws.Int32(2), aws.String("4"), page{Parts: []int32{5}, Next: 5, MaxParts: 2}},
		{"past the end", nil, aws.String("5"), page{MaxParts: 1000}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, list(tt.max, tt.marker)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
