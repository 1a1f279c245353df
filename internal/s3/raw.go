package s3

import (
	"net/http"
	"net/url"
	"strings"

	"overcast/internal/awsproto"
)

// ServeRaw serves the requests the S3 model cannot describe, which the
// codec hands over before it routes: browser POST uploads (see post.go),
// and bucket requests addressed as "/<bucket>/". It reports whether the
// request was one, and returns the error it failed with for the codec to
// write.
func (s *Service) ServeRaw(w http.ResponseWriter, r *http.Request) (bool, error) {
	if bucket, ok := isPostUpload(r); ok {
		return true, s.postObject(w, r, bucket)
	}
	if path, ok := bucketRootPath(r); ok {
		s.bucketAPI.ServeHTTP(w, withPath(r, path))
		return true, nil
	}
	return false, nil
}

// bucketRootPath returns "/<bucket>" for a path-style request for
// "/<bucket>/", the form the AWS SDK for JavaScript v3 (forcePathStyle)
// gives every bucket operation. S3 takes it as the bucket: an object key is
// never empty. The model's templates would take it as "/{Bucket}/{Key+}"
// with an empty key, so CreateBucket would be a PutObject and
// ListObjectsV2 a GetObject.
func bucketRootPath(r *http.Request) (string, bool) {
	raw := r.URL.EscapedPath()
	if strings.HasPrefix(r.RequestURI, "/") {
		raw, _, _ = strings.Cut(r.RequestURI, "?")
	}
	bucket, ok := strings.CutSuffix(strings.TrimPrefix(raw, "/"), "/")
	if !ok || bucket == "" || strings.Contains(bucket, "/") {
		return "", false
	}
	return "/" + bucket, true
}

// withPath returns r addressed to the escaped path, its query kept.
func withPath(r *http.Request, path string) *http.Request {
	r = r.Clone(r.Context())
	r.URL.Path, _ = url.PathUnescape(path)
	r.URL.RawPath = path
	r.RequestURI = path
	if r.URL.RawQuery != "" {
		r.RequestURI += "?" + r.URL.RawQuery
	}
	return r
}

var _ awsproto.RawServer = (*Service)(nil)
