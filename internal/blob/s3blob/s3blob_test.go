package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"overcast/internal/app"
	"overcast/internal/awstest"
	"overcast/internal/blob"
	"overcast/internal/blob/blobtest"
	"overcast/internal/blob/s3blob"
)

// open makes a bucket on srv and a store in it, under a prefix, with
// parts of S3's smallest size so that blobtest's large blob goes as a
// multipart upload.
func open(t *testing.T, srv *awstest.Server, bucket string) *s3blob.Store {
	t.Helper()
	ctx := context.Background()
	awstest.Call(t, s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket,
		&s3.CreateBucketInput{Bucket: aws.String(bucket)})
	s, err := s3blob.Open(ctx, "s3://"+bucket+"/blobs", s3blob.Options{Endpoint: srv.URL, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the blob suite against another overcast's S3.
func TestConformance(t *testing.T) {
	srv := awstest.Start(t)
	var n atomic.Int64
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return open(t, srv, fmt.Sprintf("blobs-%d", n.Add(1)))
	})
}

// TestOpenRefusals: a location that is no S3 URL, and a bucket that does
// not exist, fail Open with a reason.
func TestOpenRefusals(t *testing.T) {
	srv := awstest.Start(t)
	for _, location := range []string{"file:///tmp/blobs", "s3:///prefix", "s3://no-such-bucket/x"} {
		_, err := s3blob.Open(context.Background(), location, s3blob.Options{Endpoint: srv.URL, Region: "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
		if err == nil {
			t.Errorf("Open(%q): got no error", location)
		}
	}
}

// TestAbortedUploadLeavesNothing: a blob larger than a part that is
// aborted midway leaves no object, and no multipart upload behind.
func TestAbortedUploadLeavesNothing(t *testing.T) {
	srv := awstest.Start(t)
	s := open(t, srv, "aborted")
	ctx := context.Background()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 6<<20)); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Size(ctx, w.ID()); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Size of an aborted blob: got %v, want ErrNotFound", err)
	}
	uploads := awstest.Call(t, s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true }).ListMultipartUploads,
		&s3.ListMultipartUploadsInput{Bucket: aws.String("aborted")})
	if len(uploads.Uploads) != 0 {
		t.Errorf("multipart uploads left: %d, want 0", len(uploads.Uploads))
	}
}

// TestOvercastOnSharedBlobs: an overcast whose blobs live in another's S3
// (--blobs, --blobs-endpoint) stores an object larger than a part there,
// reads it back, and still has it after a restart.
func TestOvercastOnSharedBlobs(t *testing.T) {
	blobHost := awstest.Start(t)
	open(t, blobHost, "shared")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	srv := awstest.Start(t, awstest.Configure(func(c *app.Config) {
		c.Blobs, c.BlobsEndpoint = "s3://shared/replica", blobHost.URL
	}))
	client := func() *s3.Client {
		return s3.NewFromConfig(srv.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), (9<<20)/16)
	awstest.Call(t, client().CreateBucket, &s3.CreateBucketInput{Bucket: aws.String("app")})
	awstest.Call(t, client().PutObject, &s3.PutObjectInput{Bucket: aws.String("app"), Key: aws.String("big.bin"), Body: bytes.NewReader(data)})

	stored := awstest.Call(t, s3.NewFromConfig(blobHost.Config(), func(o *s3.Options) { o.UsePathStyle = true }).ListObjectsV2,
		&s3.ListObjectsV2Input{Bucket: aws.String("shared"), Prefix: aws.String("replica/")})
	if len(stored.Contents) != 1 || aws.ToInt64(stored.Contents[0].Size) != int64(len(data)) {
		t.Fatalf("blobs in the shared bucket: %+v, want one of %d bytes", stored.Contents, len(data))
	}
	srv.Restart(t)
	got := awstest.Call(t, client().GetObject, &s3.GetObjectInput{Bucket: aws.String("app"), Key: aws.String("big.bin")})
	body, err := io.ReadAll(got.Body)
	if err != nil || !bytes.Equal(body, data) {
		t.Errorf("object after restart: %d bytes (err %v), want the %d written", len(body), err, len(data))
	}
}
