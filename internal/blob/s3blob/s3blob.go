// Package s3blob keeps blobs in an S3-compatible object store (AWS S3,
// MinIO, another overcast): the blob.Store overcast uses when it runs
// beyond one machine, so that every replica reads what any replica wrote.
// It is the only package that talks to S3 as a client.
//
// A blob is the object <prefix><id>. A Writer buffers one part; a blob
// that fits in it is written with one PutObject at Commit, a larger one
// streams as a multipart upload whose parts go out as they fill and which
// CompleteMultipartUpload makes visible at Commit — S3 shows an object
// only once it is complete, which is blob.Store's promise. Abort (or a
// crash) leaves at most an unfinished multipart upload, which S3's
// lifecycle rules or Walk's owner can abort; it is never visible.
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"overcast/internal/blob"
)

// PartSize is the size of each part of a multipart upload, and the
// largest blob written with a single PutObject. S3 wants parts of at least
// 5 MiB but the last.
const PartSize = 8 << 20

// copyLimit is the largest object S3's CopyObject copies; larger blobs are
// cloned part by part.
const copyLimit = 5 << 30

// Store is a blob.Store in one bucket under a prefix.
type Store struct {
	client   *s3.Client
	bucket   string
	prefix   string
	partSize int64
}

var (
	_ blob.Store  = (*Store)(nil)
	_ blob.Cloner = (*Store)(nil)
)

// Options configure Open.
type Options struct {
	// Endpoint is the S3-compatible service's URL; empty for AWS's.
	// Requests use path-style addressing with an endpoint, as most
	// S3-compatible services want.
	Endpoint string
	// Region signs the requests; the environment's (AWS_REGION, the
	// profile) when empty, else us-east-1.
	Region string
	// Credentials, when set, replace the environment's credential chain
	// (AWS_ACCESS_KEY_ID..., profiles, container and instance roles).
	Credentials aws.CredentialsProvider
	// HTTPClient, when set, carries the requests (tests).
	HTTPClient *http.Client
	// PartSize overrides PartSize (tests use small parts); at least 5 MiB
	// for AWS.
	PartSize int64
}

// Open returns the store at location, "s3://bucket/prefix". The bucket
// must exist; Open checks that it answers.
func Open(ctx context.Context, location string, o Options) (*Store, error) {
	u, err := url.Parse(location)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("s3blob: %q is not s3://bucket/prefix", location)
	}
	prefix := strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var loads []func(*config.LoadOptions) error
	if o.Region != "" {
		loads = append(loads, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		loads = append(loads, config.WithCredentialsProvider(o.Credentials))
	}
	if o.HTTPClient != nil {
		loads = append(loads, config.WithHTTPClient(o.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("s3blob: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
	})
	s := &Store{client: client, bucket: u.Host, prefix: prefix, partSize: o.PartSize}
	if s.partSize <= 0 {
		s.partSize = PartSize
	}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); err != nil {
		return nil, fmt.Errorf("s3blob: bucket %s: %w", s.bucket, err)
	}
	return s, nil
}

func (s *Store) key(id string) *string { return aws.String(s.prefix + id) }

// Create implements blob.Store.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &writer{s: s, ctx: context.WithoutCancel(ctx), id: blob.NewID()}, nil
}

// Open implements blob.Store.
func (s *Store) Open(ctx context.Context, id string, offset, length int64) (io.ReadCloser, error) {
	size, err := s.Size(ctx, id)
	if err != nil {
		return nil, err
	}
	if length < 0 {
		length = size - offset
	}
	if offset < 0 || length < 0 || offset+length > size {
		return nil, fmt.Errorf("s3blob: range %d+%d outside blob %s of %d bytes", offset, length, id, size)
	}
	if length == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: s.key(id)}
	if offset != 0 || length != size {
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-" + strconv.FormatInt(offset+length-1, 10))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, s.wrap("get", id, err)
	}
	return out.Body, nil
}

// Size implements blob.Store.
func (s *Store) Size(ctx context.Context, id string) (int64, error) {
	if !blob.ValidID(id) {
		return 0, blob.ErrNotFound
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.key(id)})
	if err != nil {
		return 0, s.wrap("head", id, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !blob.ValidID(id) {
		return nil
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: s.key(id)})
	if err != nil {
		return s.wrap("delete", id, err)
	}
	return nil
}

// Walk implements blob.Store.
func (s *Store) Walk(ctx context.Context, fn func(id string) error) error {
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3blob: list: %w", err)
		}
		for _, obj := range page.Contents {
			if id := strings.TrimPrefix(aws.ToString(obj.Key), s.prefix); blob.ValidID(id) {
				if err := fn(id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Clone implements blob.Cloner: the service copies the bytes, which never
// pass through overcast.
func (s *Store) Clone(ctx context.Context, id string) (string, error) {
	size, err := s.Size(ctx, id)
	if err != nil {
		return "", err
	}
	if size > copyLimit {
		return blob.Copy(ctx, streamOnly{s}, id)
	}
	nid := blob.NewID()
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &s.bucket, Key: s.key(nid),
		CopySource: aws.String(s.bucket + "/" + s.prefix + id)})
	if err != nil {
		return "", s.wrap("copy", id, err)
	}
	return nid, nil
}

// streamOnly hides Clone, so that blob.Copy streams.
type streamOnly struct{ blob.Store }

// wrap turns S3's not-found answers into blob.ErrNotFound.
func (s *Store) wrap(op, id string, err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	if errors.As(err, &nsk) || errors.As(err, &nf) || (errors.As(err, &api) && api.ErrorCode() == "NoSuchKey") {
		return blob.ErrNotFound
	}
	return fmt.Errorf("s3blob: %s %s: %w", op, id, err)
}

// writer buffers a part; see the package comment.
type writer struct {
	s   *Store
	ctx context.Context // the Create call's values, not its deadline: a blob outlives the request that started it
	id  string

	buf      bytes.Buffer
	size     int64
	uploadID *string // the multipart upload, once a part has gone out
	parts    []types.CompletedPart
	done     bool
	err      error // a part that failed: the blob cannot be committed
}

func (w *writer) ID() string  { return w.id }
func (w *writer) Size() int64 { return w.size }

func (w *writer) Write(p []byte) (int, error) {
	switch {
	case w.done:
		return 0, blob.ErrDone
	case w.err != nil:
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		room := int(w.s.partSize) - w.buf.Len()
		chunk := p[:min(room, len(p))]
		w.buf.Write(chunk)
		w.size += int64(len(chunk))
		p = p[len(chunk):]
		if w.buf.Len() == int(w.s.partSize) {
			if err := w.flushPart(w.ctx); err != nil {
				w.err = err
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// flushPart uploads the buffer as the next part, starting the multipart
// upload with the first.
func (w *writer) flushPart(ctx context.Context) error {
	s := w.s
	if w.uploadID == nil {
		out, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: s.key(w.id)})
		if err != nil {
			return s.wrap("create upload", w.id, err)
		}
		w.uploadID = out.UploadId
	}
	number := int32(len(w.parts) + 1)
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &s.bucket, Key: s.key(w.id), UploadId: w.uploadID,
		PartNumber: aws.Int32(number), Body: bytes.NewReader(w.buf.Bytes()), ContentLength: aws.Int64(int64(w.buf.Len()))})
	if err != nil {
		return s.wrap("upload part", w.id, err)
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(number)})
	w.buf.Reset()
	return nil
}

func (w *writer) Commit(ctx context.Context) error {
	switch {
	case w.done:
		return blob.ErrDone
	case w.err != nil:
		return w.err
	}
	s := w.s
	if w.uploadID == nil {
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: s.key(w.id),
			Body: bytes.NewReader(w.buf.Bytes()), ContentLength: aws.Int64(int64(w.buf.Len()))})
		if err != nil {
			return s.wrap("put", w.id, err)
		}
		w.done = true
		w.buf = bytes.Buffer{}
		return nil
	}
	if w.buf.Len() > 0 {
		if err := w.flushPart(ctx); err != nil {
			return err
		}
	}
	_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: s.key(w.id),
		UploadId: w.uploadID, MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts}})
	if err != nil {
		return s.wrap("complete upload", w.id, err)
	}
	w.done = true
	return nil
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.buf = bytes.Buffer{}
	if w.uploadID == nil {
		return nil
	}
	s := w.s
	_, err := s.client.AbortMultipartUpload(w.ctx, &s3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: s.key(w.id), UploadId: w.uploadID})
	if err != nil {
		return s.wrap("abort upload", w.id, err)
	}
	return nil
}
