package s3

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	api "overcast/internal/api/s3"
)

// BenchmarkPutObject is a 4 KB PutObject below the wire layer: the
// metadata transaction, the event, the hashing.
func BenchmarkPutObject(b *testing.B) {
	s, _, _ := newTestService(b)
	ctx := context.Background()
	if _, err := s.CreateBucket(ctx, &api.CreateBucketRequest{Bucket: new("bench")}); err != nil {
		b.Fatal(err)
	}
	body := strings.Repeat("x", 4096)
	for i := 0; b.Loop(); i++ {
		_, err := s.PutObject(ctx, &api.PutObjectRequest{Bucket: new("bench"), Key: new(fmt.Sprintf("k/%04d", i%1000)),
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: new(int64(4096))})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetObject reads a 4 KB object back.
func BenchmarkGetObject(b *testing.B) {
	s, _, _ := newTestService(b)
	ctx := context.Background()
	s.CreateBucket(ctx, &api.CreateBucketRequest{Bucket: new("bench")})
	body := strings.Repeat("x", 4096)
	if _, err := s.PutObject(ctx, &api.PutObjectRequest{Bucket: new("bench"), Key: new("k"),
		Body: io.NopCloser(strings.NewReader(body))}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		out, err := s.GetObject(ctx, &api.GetObjectRequest{Bucket: new("bench"), Key: new("k")})
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, out.Body)
		out.Body.Close()
	}
}
